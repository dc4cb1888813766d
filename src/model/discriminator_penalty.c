/*
 * discriminator_penalty.c - gradient penalties (R1, R2, WGAN-GP) of the
 * discriminator: the input gradient g of the last forward, a scalar penalty
 * P(g) and, by the backward of the backward, dP/dtheta for every parameter.
 * docs/gradient-penalties.md has the same math with its derivation.
 *
 * CONV1D kind, one sequence b (rows are independent), k = 0 .. L-1:
 *   z_k = conv_k(a_{k-1}) + bias_k    a_k = lrelu(z_k)    a_{-1} = x_in (T, I)
 *   logit = w . flat(a_{L-1}) + b0
 * First backward, weighted by omega_b (the caller's weights, 1 by default):
 *   da_{L-1} = omega_b unflat(w)
 *   dz_k     = m_k * da_k              m_k = 1 where z_k > 0, slope elsewhere
 *   da_{k-1} = conv_k^T(dz_k)          (the input gradient of conv_k)
 *   g_b      = da_{-1}[:, :F]          (condition columns are not penalised)
 * Penalty: P = s / B * sum_b phi(g_b) (nn/penalty.h), u = dP/dg.
 * Backward of the backward: P depends on theta through g only; going back
 * through the first backward visits the layers in forward order:
 *   t_{-1} = u (0 on the condition columns)
 *   dP/dW_k += dz_k^T im2col(t_{k-1})       t_k = m_k * conv_k(t_{k-1}) (no bias)
 *   dP/dw   += sum_b omega_b flat(t_{L-1, b})
 * t_k is the derivative of a_k in the direction u (a Jacobian-vector
 * product). Nothing flows through m_k: leaky ReLU's derivative is piecewise
 * constant, so dP/dbias_k = dP/db0 = 0 and dP/dx = 0 away from the kinks
 * z = 0 (where torch's autograd takes 0 as well).
 *
 * GRU kind: its second derivatives (through sigmoid and tanh, and into x)
 * are not written yet; the call refuses it with GRUGAN_E_UNSUPPORTED.
 */
#include "core/core.h"
#include "model/discriminator_internal.h"
#include "nn/activation.h"
#include "nn/conv1d.h"
#include "nn/linear.h"
#include "nn/penalty.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* First backward of the CONV1D kind weighted by omega (B): keeps every dz_k
 * in d->dz and leaves g in d->dx_in (B, T, I), condition columns zeroed. */
static void conv_input_grad(grugan_discriminator *d, const float *omega)
{
    const size_t B = d->batch, last = d->n_conv - 1, T_out = d->conv[last].t_out;
    const float *v = d->params.values;
    float *dz_last = d->dz + (grugan__disc_act(d, last, B) - d->acts);

    /* dfeat[b] = omega_b w, then da_{L-1}[b, t, c] = dfeat[b, c * T_out + t] */
    grugan__linear_backward(d->dfeat, NULL, NULL, omega, NULL, v + d->head_w, B, d->feat_in, 1,
                            GRUGAN__NN_INPUT_ONLY, d->threads);
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T_out; t++)
            for (size_t c = 0; c < d->ch; c++)
                dz_last[(b * T_out + t) * d->ch + c] = d->dfeat[b * d->feat_in + c * T_out + t];
    for (size_t k = d->n_conv; k-- > 0;) {
        const grugan__conv1d_shape s = grugan__disc_conv_shape(d, k, B);
        const size_t off = (size_t)(grugan__disc_act(d, k, B) - d->acts);
        float *dz = d->dz + off;
        float *din = k ? d->dz + (grugan__disc_act(d, k - 1, B) - d->acts) : d->dx_in;
        /* dz_k = m_k * da_k (in place), da_{k-1} = conv_k^T(dz_k) */
        grugan__leaky_relu_backward(dz, dz, d->acts + off, d->slope, B * d->conv[k].t_out * d->ch,
                                    0, d->threads);
        grugan__conv1d_backward(din, NULL, NULL, d->scratch, dz, NULL, v + d->conv[k].w, &s,
                                GRUGAN__NN_INPUT_ONLY, d->threads);
    }
    if (d->C)
        for (size_t r = 0; r < B * d->T; r++)
            memset(d->dx_in + r * d->I + d->F, 0, d->C * sizeof(float));
}

/* Backward of the backward of the CONV1D kind: with u = dP/dg in d->dx_in
 * and the dz_k of conv_input_grad, adds dP/dW_k and dP/dw to the gradients. */
static void conv_penalty_backward(grugan_discriminator *d, const float *omega)
{
    const size_t B = d->batch, last = d->n_conv - 1, T_out = d->conv[last].t_out;
    const float *v = d->params.values;
    float *grads = d->params.grads;
    const float *t_in = d->dx_in; /* t_{k-1}: u, then dbuf[0], dbuf[1], ... */
    float *t_out = NULL;

    for (size_t k = 0; k < d->n_conv; k++) {
        const grugan__conv1d_shape s = grugan__disc_conv_shape(d, k, B);
        const size_t off = (size_t)(grugan__disc_act(d, k, B) - d->acts);
        t_out = d->dbuf[k % 2];
        /* dW_k += dz_k^T im2col(t_{k-1}), t_k = conv_k(t_{k-1}), then t_k *= m_k */
        grugan__conv1d_input_grad_backward(t_out, grads + d->conv[k].w, d->scratch, t_in,
                                           d->dz + off, v + d->conv[k].w, &s, d->threads);
        grugan__leaky_relu_backward(t_out, t_out, d->acts + off, d->slope,
                                    B * d->conv[k].t_out * d->ch, 0, d->threads);
        t_in = t_out;
    }
    /* flat(t_{L-1})[b, c * T_out + t] = t_{L-1}[b, t, c], then dw += omega^T flat */
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T_out; t++)
            for (size_t c = 0; c < d->ch; c++)
                d->dfeat[b * d->feat_in + c * T_out + t] = t_out[(b * T_out + t) * d->ch + c];
    grugan__linear_input_grad_backward(NULL, grads + d->head_w, d->dfeat, omega, NULL, B,
                                       d->feat_in, 1, d->threads);
}

int grugan_discriminator_penalty(grugan_discriminator *disc, int kind, float scale,
                                 const float *weights, float *value, float *input_grad,
                                 int flags)
{
    size_t B, n;
    double p;
    float *omega;
    CHECK_DISC(disc);
    if (!value) return DISC_FAIL(disc, GRUGAN_E_INVALID, "value is NULL");
    if (kind != GRUGAN_PENALTY_SQUARED_NORM && kind != GRUGAN_PENALTY_UNIT_NORM)
        return DISC_FAIL(disc, GRUGAN_E_INVALID,
                         "penalty kind %d is not GRUGAN_PENALTY_SQUARED_NORM (0) or "
                         "GRUGAN_PENALTY_UNIT_NORM (1)",
                         kind);
    if (flags != GRUGAN_BACKWARD_PARAMS && flags != GRUGAN_BACKWARD_INPUT_ONLY)
        return DISC_FAIL(disc, GRUGAN_E_INVALID, "unknown backward flags %d", flags);
    if (!isfinite(scale) || scale < 0.0f)
        return DISC_FAIL(disc, GRUGAN_E_RANGE, "scale is %g, not finite and >= 0",
                         (double)scale);
    if (disc->kind != GRUGAN_DISC_CONV1D)
        return DISC_FAIL(disc, GRUGAN_E_UNSUPPORTED,
                         "gradient penalties are implemented for the CONV1D discriminator "
                         "only; the GRU kind's second derivatives are not written yet");
    if (!disc->have_forward) return DISC_FAIL(disc, GRUGAN_E_STATE, "penalty needs a forward first");
    B = disc->batch;
    n = disc->T * disc->I; /* g_b holds the zeroed condition columns too */
    if (weights && disc->check_finite && !grugan__all_finite(weights, B))
        return DISC_FAIL(disc, GRUGAN_E_NONFINITE, "weights contains NaN or Inf");
    omega = disc->dlog; /* (B) */
    for (size_t b = 0; b < B; b++) omega[b] = weights ? weights[b] : 1.0f;

    conv_input_grad(disc, omega);
    if (input_grad)
        for (size_t r = 0; r < B * disc->T; r++)
            memcpy(input_grad + r * disc->F, disc->dx_in + r * disc->I,
                   disc->F * sizeof *input_grad);
    /* u = dP/dg in place of g when the parameters' gradients are wanted */
    p = grugan__penalty((grugan__penalty_kind)kind, scale, disc->dx_in,
                        flags == GRUGAN_BACKWARD_PARAMS ? disc->dx_in : NULL, B, n);
    if (!(fabs(p) <= FLT_MAX))
        return DISC_FAIL(disc, GRUGAN_E_NONFINITE,
                         "the penalty is not finite; no gradient was changed");
    *value = (float)p;
    if (flags == GRUGAN_BACKWARD_PARAMS) conv_penalty_backward(disc, omega);
    return GRUGAN_OK;
}
