/* ref_layers.c - naive double-precision layers, see ref_layers.h. */
#include "ref_layers.h"

#include <math.h>
#include <string.h>

void ref_linear_forward(double *y, const double *x, const double *W, const double *b, size_t N,
                        size_t in, size_t out)
{
    for (size_t n = 0; n < N; n++)
        for (size_t o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (size_t i = 0; i < in; i++) s += x[n * in + i] * W[o * in + i];
            y[n * out + o] = s;
        }
}

void ref_linear_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
                         const double *W, size_t N, size_t in, size_t out)
{
    if (dx)
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < in; i++) {
                double s = 0.0;
                for (size_t o = 0; o < out; o++) s += dy[n * out + o] * W[o * in + i];
                dx[n * in + i] = s;
            }
    if (dW)
        for (size_t o = 0; o < out; o++)
            for (size_t i = 0; i < in; i++) {
                double s = 0.0;
                for (size_t n = 0; n < N; n++) s += dy[n * out + o] * x[n * in + i];
                dW[o * in + i] = s;
            }
    if (db)
        for (size_t o = 0; o < out; o++) {
            double s = 0.0;
            for (size_t n = 0; n < N; n++) s += dy[n * out + o];
            db[o] = s;
        }
}

double ref_act(int act, double x, double slope)
{
    switch (act) {
    case REF_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x)); /* exp(1000) = inf gives 0 */
    case REF_ACT_TANH: return tanh(x);
    case REF_ACT_LEAKY_RELU: return x > 0.0 ? x : slope * x;
    default: return x;
    }
}

double ref_act_grad(int act, double x, double slope)
{
    switch (act) {
    case REF_ACT_SIGMOID: {
        const double s = 1.0 / (1.0 + exp(-x));
        return s * (1.0 - s);
    }
    case REF_ACT_TANH: {
        const double t = tanh(x);
        return 1.0 - t * t;
    }
    case REF_ACT_LEAKY_RELU: return x > 0.0 ? 1.0 : slope;
    default: return 1.0;
    }
}

size_t ref_conv1d_out_len(const ref_conv1d_dims *d)
{
    const long long padded = (long long)d->T + 2 * (long long)d->P;
    if (padded < (long long)d->K) return 0;
    return (size_t)((padded - (long long)d->K) / (long long)d->S + 1);
}

/* x[b, tt, c] with zero padding outside [0, T). */
static double x_at(const double *x, const ref_conv1d_dims *d, size_t b, long long tt, size_t c)
{
    if (tt < 0 || tt >= (long long)d->T) return 0.0;
    return x[(b * d->T + (size_t)tt) * d->C_in + c];
}

void ref_conv1d_forward(double *y, const double *x, const double *W, const double *bias,
                        const ref_conv1d_dims *d)
{
    const size_t T_out = ref_conv1d_out_len(d);
    for (size_t b = 0; b < d->B; b++)
        for (size_t t = 0; t < T_out; t++)
            for (size_t o = 0; o < d->C_out; o++) {
                double s = bias ? bias[o] : 0.0;
                for (size_t c = 0; c < d->C_in; c++)
                    for (size_t k = 0; k < d->K; k++) {
                        const long long tt = (long long)(t * d->S + k) - (long long)d->P;
                        s += W[(o * d->C_in + c) * d->K + k] * x_at(x, d, b, tt, c);
                    }
                y[(b * T_out + t) * d->C_out + o] = s;
            }
}

void ref_conv1d_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
                         const double *W, const ref_conv1d_dims *d)
{
    const size_t T_out = ref_conv1d_out_len(d);
    if (dx) memset(dx, 0, d->B * d->T * d->C_in * sizeof *dx);
    if (dW) memset(dW, 0, d->C_out * d->C_in * d->K * sizeof *dW);
    if (db) memset(db, 0, d->C_out * sizeof *db);
    for (size_t b = 0; b < d->B; b++)
        for (size_t t = 0; t < T_out; t++)
            for (size_t o = 0; o < d->C_out; o++) {
                const double g = dy[(b * T_out + t) * d->C_out + o];
                if (db) db[o] += g;
                for (size_t c = 0; c < d->C_in; c++)
                    for (size_t k = 0; k < d->K; k++) {
                        const long long tt = (long long)(t * d->S + k) - (long long)d->P;
                        if (tt < 0 || tt >= (long long)d->T) continue;
                        if (dW) dW[(o * d->C_in + c) * d->K + k] += g * x_at(x, d, b, tt, c);
                        if (dx)
                            dx[(b * d->T + (size_t)tt) * d->C_in + c] +=
                                g * W[(o * d->C_in + c) * d->K + k];
                    }
            }
}
