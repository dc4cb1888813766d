/* test_gru_reference.c - the double-precision reference GRU (ref_gru.c) on
 * its own: hand-computed steps, PyTorch values, length and direction
 * semantics, and finite-difference checks of every gradient. It does not use
 * the library's GRU, so that it can be trusted as that GRU's oracle. */
#include "suites.h"

#include "ref_gru.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A batch with its loss weights: L = sum(out * w_out) + sum(h_n * w_hn), so
 * that dL/dout = w_out and dL/dh_n = w_hn. */
typedef struct problem {
    size_t B, T;
    double *x;     /* (B, T, I) */
    double *h0;    /* (L*D, B, H) */
    size_t *len;   /* (B) or NULL */
    double *w_out; /* (B, T, D*H) */
    double *w_hn;  /* (L*D, B, H) */
    double *out;   /* (B, T, D*H) */
    double *hn;    /* (L*D, B, H) */
} problem;

static void problem_init(problem *p, const ref_gru *g, size_t B, size_t T,
                         const size_t *lengths, ref_rng *rng)
{
    const size_t nx = B * T * g->I, nout = B * T * g->D * g->H, nh = g->L * g->D * B * g->H;
    p->B = B;
    p->T = T;
    p->x = malloc(nx * sizeof(double));
    p->h0 = malloc(nh * sizeof(double));
    p->w_out = malloc(nout * sizeof(double));
    p->w_hn = malloc(nh * sizeof(double));
    p->out = malloc(nout * sizeof(double));
    p->hn = malloc(nh * sizeof(double));
    p->len = NULL;
    ck_assert(p->x && p->h0 && p->w_out && p->w_hn && p->out && p->hn);
    if (lengths) {
        p->len = malloc(B * sizeof(size_t));
        ck_assert_ptr_nonnull(p->len);
        memcpy(p->len, lengths, B * sizeof(size_t));
    }
    ref_rng_fill(rng, p->x, nx, -1, 1);
    ref_rng_fill(rng, p->h0, nh, -0.8, 0.8);
    ref_rng_fill(rng, p->w_out, nout, -1, 1);
    ref_rng_fill(rng, p->w_hn, nh, -1, 1);
}

static void problem_free(problem *p)
{
    free(p->x);
    free(p->h0);
    free(p->len);
    free(p->w_out);
    free(p->w_hn);
    free(p->out);
    free(p->hn);
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* L = sum(out * w_out) + sum(h_n * w_hn) */
static double loss(const ref_gru *g, problem *p)
{
    const size_t nout = p->B * p->T * g->D * g->H, nh = g->L * g->D * p->B * g->H;
    if (ref_gru_forward(g, p->B, p->T, p->x, p->h0, p->len, p->out, p->hn, NULL) != 0)
        ck_abort_msg("reference forward failed");
    return dot(p->out, p->w_out, nout) + dot(p->hn, p->w_hn, nh);
}

/* Central difference of the loss in *v, compared with the analytic `grad`:
 * |fd - grad| <= tol * (1 + |grad|). */
static void fd_compare(const ref_gru *g, problem *p, double *v, double grad, const char *what,
                         size_t index)
{
    const double eps = 1e-6, tol = 1e-7;
    const double saved = *v;
    double lp, lm, fd, err;
    *v = saved + eps;
    lp = loss(g, p);
    *v = saved - eps;
    lm = loss(g, p);
    *v = saved;
    fd = (lp - lm) / (2 * eps);
    err = fabs(fd - grad) / (1 + fabs(grad));
    /* plain test, one assertion on failure: each passing Check assertion
     * costs a system call in fork mode */
    if (!(err <= tol))
        ck_abort_msg("%s[%zu]: finite difference %.12g, backward %.12g", what, index, fd, grad);
}

typedef struct fd_case {
    size_t I, H, L;
    int bidirectional, reset_before, use_lengths;
} fd_case;

/* Case k of 24: both conventions, uni/bidirectional, with/without lengths,
 * 1..3 layers, sizes I, H in 1..3 cycling. */
static fd_case fd_case_of(int k)
{
    fd_case c;
    c.reset_before = k & 1;
    c.bidirectional = (k >> 1) & 1;
    c.use_lengths = (k >> 2) & 1;
    c.L = 1 + (size_t)k / 8;
    c.H = 1 + (size_t)k % 3;
    c.I = 1 + ((size_t)k / 3) % 3;
    if (k % 5 == 0) c.H = 4;
    return c;
}

START_TEST(backward_matches_finite_differences)
{
    const fd_case c = fd_case_of(_i);
    const size_t B = 3, T = 4, lengths[3] = {2, 4, 1};
    ref_gru g;
    ref_rng rng;
    problem p;
    ref_gru_tape tape;
    double *dx, *dh0;
    size_t nx, nh;
    ck_assert_int_eq(ref_gru_init(&g, c.I, c.H, c.L, c.bidirectional, c.reset_before), 0);
    ref_rng_seed(&rng, 1000 + (uint64_t)_i);
    ref_gru_randomize(&g, &rng, 0.9);
    problem_init(&p, &g, B, T, c.use_lengths ? lengths : NULL, &rng);
    nx = B * T * c.I;
    nh = c.L * g.D * B * c.H;
    dx = malloc(nx * sizeof(double));
    dh0 = malloc(nh * sizeof(double));
    ck_assert(dx && dh0);

    ck_assert_int_eq(ref_gru_forward(&g, B, T, p.x, p.h0, p.len, p.out, p.hn, &tape), 0);
    ck_assert_int_eq(ref_gru_backward(&g, &tape, p.w_out, p.w_hn, dx, dh0), 0);
    ref_gru_tape_free(&tape);

    for (size_t i = 0; i < g.num_params; i++)
        for (size_t e = 0; e < g.numel[i]; e++)
            fd_compare(&g, &p, &g.param[i][e], g.grad[i][e], g.name[i], e);
    for (size_t e = 0; e < nx; e++) fd_compare(&g, &p, &p.x[e], dx[e], "dx", e);
    for (size_t e = 0; e < nh; e++) fd_compare(&g, &p, &p.h0[e], dh0[e], "dh0", e);

    /* padded steps do not reach the loss */
    if (p.len)
        for (size_t b = 0; b < B; b++)
            for (size_t t = p.len[b]; t < T; t++)
                for (size_t j = 0; j < c.I; j++)
                    if (dx[(b * T + t) * c.I + j] != 0.0) ck_abort_msg("dx of a padded step");
    free(dx);
    free(dh0);
    problem_free(&p);
    ref_gru_free(&g);
}
END_TEST

/* One unit, one step, numbers worked out by hand. W_ih = (0, 0, 1)^T,
 * W_hh = (0, 0, 2)^T, b_ih = 0, b_hh = (0, 0, 0.5), x = 1, h = 0.6:
 * r = z = sigmoid(0) = 1/2;
 *   reset after:  n = tanh(1 + 0.5 * (2 * 0.6 + 0.5)) = tanh(1.85)
 *   reset before: n = tanh(1 + 2 * (0.5 * 0.6) + 0.5) = tanh(2.1)
 * h' = 0.5 * n + 0.5 * 0.6. */
START_TEST(one_step_worked_by_hand)
{
    for (int before = 0; before < 2; before++) {
        ref_gru g;
        const double x = 1.0, h0 = 0.6;
        double out, hn;
        const double want = 0.5 * tanh(before ? 2.1 : 1.85) + 0.3;
        ck_assert_int_eq(ref_gru_init(&g, 1, 1, 1, 0, before), 0);
        g.param[REF_W_IH][2] = 1.0;
        g.param[REF_W_HH][2] = 2.0;
        g.param[REF_B_HH][2] = 0.5;
        ck_assert_int_eq(ref_gru_forward(&g, 1, 1, &x, &h0, NULL, &out, &hn, NULL), 0);
        ck_assert_double_eq_tol(out, want, 1e-15);
        ck_assert_double_eq_tol(hn, want, 1e-15);
        ref_gru_free(&g);
    }
}
END_TEST

/* torch.nn.GRU(3, 2, num_layers=2, bidirectional=True, batch_first=True) in
 * double precision (PyTorch 1.13), run on
 * pack_padded_sequence(x, lengths {4, 2, 3}, enforce_sorted=False) with h0
 * and unpacked with total_length 4; the loss
 * sum(out * w_out) + sum(h_n * w_hn) backpropagated by autograd. The
 * parameters (in state_dict order), x, h0, w_out and w_hn are those drawn in
 * matches_pytorch below (ref_rng seed 7). */
static const double torch_out[48] = {
    0.58641428136795781, 0.25584789295379712, -0.12509198445570907, -0.08306933837207188,
    0.68834614631802493, 0.096096004289201231, -0.20713945561830688, -0.170810605599201,
    0.71037214895253442, 0.17303672338520176, -0.25823169716256694, -0.10561724144296193,
    0.67716268065505003, -0.0087961737038476095, -0.36135580576079762, -0.2152588846760139,
    0.079073918812434141, -0.27822085444141009, -0.11794892274393379, -0.34408407156901755,
    0.32939847822883472, 0.15415516654449307, -0.037959587289754848, 0.01217428412505641,
    0, 0, 0, 0,
    0, 0, 0, 0,
    -0.11796813706584175, -0.16643815008397406, -0.27596237259291972, -0.35280714724080986,
    -0.050426294176288217, -0.19697008044308378, -0.19407704180172147, -0.25093816965570748,
    -0.15061364213876924, -0.058127963443673047, -0.035456533670358836, 0.14009187134030571,
    0, 0, 0, 0,
};
static const double torch_hn[24] = {
    0.025774918405366359, 0.52759070316548806, 0.63516655587495285, 0.62431678891998321,
    -0.021038696007829982, 0.8339935071261817, -0.58372828166540613, -0.11654661244569184,
    -0.3942972208794483, -0.25711502934090802, -0.18948373241086452, -0.19372658102260615,
    0.67716268065505003, -0.0087961737038476095, 0.32939847822883472, 0.15415516654449307,
    -0.15061364213876924, -0.058127963443673047, -0.12509198445570907, -0.08306933837207188,
    -0.11794892274393379, -0.34408407156901755, -0.27596237259291972, -0.35280714724080986,
};
static const double torch_dx[36] = {
    0.023329208458291714, 0.14724329940161657, -0.074588575157799319, 0.048007222427320376,
    0.029628921245303891, 0.029089017506565375, 0.017905700429416874, -0.0096811046968648742,
    -0.15718389445834022, 0.31090412701532155, 0.1668147030143797, 0.016935302185576886,
    -0.34191946013817331, -0.20767159673976054, -0.30465894401681809, -0.084135261023096597,
    -0.019946876348505477, -0.20752921911855751, 0, 0,
    0, 0, 0, 0,
    -0.28825153131032943, -0.07663595617058494, -0.42717162739504966, -0.42737814278515185,
    -0.033810881436681456, -0.45242090432778681, -0.25361236729394732, 0.21273456013448241,
    -0.35532628717889214, 0, 0, 0,
};
static const double torch_dh0[24] = {
    0.032330766329554457, 0.042796855650034688, -0.15621880137018035, 0.06813308480501655,
    -0.37046847984623582, -0.043123554910497436, 0.23029649960231699, 0.023291556634504135,
    0.073182829192298002, -0.0012418370443389327, -0.36153374146679151, -0.5203859254464589,
    -0.39371200054070959, 0.038724009652275043, -0.24290701001199688, -0.30856279949253734,
    -0.08634851146919198, -0.2884340970913028, 0.10109922254987402, -0.074473218031570004,
    -0.1142600651778858, -0.2726102600868584, 0.10283010146231825, -0.061378761129745399,
};
static const double torch_grad_weight_hh_l0_reverse[12] = {
    -0.033482724225786409, -0.051261828899224558, 0.024077757766371676, 0.035876167530429375,
    -0.087498049571754902, -0.083494101677715427, -0.14286164197334233, -0.22698518404756585,
    -0.14782281117439103, -0.13122778130619203, -0.058990020911176645, 0.030573793018968412,
};
static const double torch_grad_weight_ih_l1[24] = {
    -0.0054195191784545387, -0.21840986662247491, 0.06254207919326478, -0.001290189923263808,
    0.1338443142965553, -0.088273528176981225, -0.027499014255750739, 0.0077842522565673214,
    0.06820614993701607, 0.16254313004517512, -0.16476019883317827, -0.066550311596593442,
    -0.090981079014172989, -0.026582268724314365, 0.049308061923211279, 0.038772319532015979,
    0.03284000167589142, -1.1517908236442744, 0.28290321520310446, -0.018058646524187608,
    0.9343658340984683, -0.26368721200105161, -0.36998902653326093, -0.018185779987719773,
};
static const double torch_grad_bias_hh_l1_reverse[6] = {
    0.01298973972666417, 0.46293326111178801, 0.053411777834107853, -0.31712290467744586,
    -0.0025198827915887921, -1.3268050914684484,
};

static void assert_close(const double *got, const double *want, size_t n, double tol,
                         const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol))
            ck_abort_msg("%s[%zu]: %.17g, expected %.17g", what, i, got[i], want[i]);
}

START_TEST(matches_pytorch)
{
    const size_t B = 3, T = 4, lengths[3] = {4, 2, 3};
    ref_gru g;
    ref_rng rng;
    problem p;
    ref_gru_tape tape;
    double dx[3 * 4 * 3], dh0[4 * 3 * 2]; /* (B, T, I), (L*D, B, H) */
    ck_assert_int_eq(ref_gru_init(&g, 3, 2, 2, 1, 0), 0);
    ref_rng_seed(&rng, 7);
    ref_gru_randomize(&g, &rng, 0.9);
    problem_init(&p, &g, B, T, lengths, &rng);
    ck_assert_int_eq(ref_gru_forward(&g, B, T, p.x, p.h0, p.len, p.out, p.hn, &tape), 0);
    ck_assert_int_eq(ref_gru_backward(&g, &tape, p.w_out, p.w_hn, dx, dh0), 0);
    ref_gru_tape_free(&tape);
    assert_close(p.out, torch_out, 48, 1e-13, "out");
    assert_close(p.hn, torch_hn, 24, 1e-13, "h_n");
    assert_close(dx, torch_dx, 36, 1e-13, "dx");
    assert_close(dh0, torch_dh0, 24, 1e-13, "dh0");
    assert_close(g.grad[ref_gru_find(&g, "weight_hh_l0_reverse")],
                 torch_grad_weight_hh_l0_reverse, 12, 1e-13, "weight_hh_l0_reverse");
    assert_close(g.grad[ref_gru_find(&g, "weight_ih_l1")], torch_grad_weight_ih_l1, 24, 1e-13,
                 "weight_ih_l1");
    assert_close(g.grad[ref_gru_find(&g, "bias_hh_l1_reverse")], torch_grad_bias_hh_l1_reverse,
                 6, 1e-13, "bias_hh_l1_reverse");
    problem_free(&p);
    ref_gru_free(&g);
}
END_TEST

/* NULL h0 is zeros, NULL lengths is all T, NULL d_out / d_hn are zeros. */
START_TEST(null_arguments_mean_defaults)
{
    const size_t B = 2, T = 3, full[2] = {3, 3};
    ref_gru g;
    ref_rng rng;
    problem p;
    ref_gru_tape tape;
    double out[2 * 3 * 4], hn[2 * 2 * 2 * 2], zeros[2 * 3 * 4] = {0}; /* (B, T, D*H), (L*D, B, H) */
    double dx1[2 * 3 * 2], dh01[16], dx2[2 * 3 * 2], dh02[16]; /* (B, T, I), (L*D, B, H) */
    ck_assert_int_eq(ref_gru_init(&g, 2, 2, 2, 1, 1), 0);
    ref_rng_seed(&rng, 3);
    ref_gru_randomize(&g, &rng, 0.9);
    problem_init(&p, &g, B, T, NULL, &rng);
    memset(p.h0, 0, sizeof hn);
    ck_assert_int_eq(ref_gru_forward(&g, B, T, p.x, p.h0, full, p.out, p.hn, NULL), 0);
    ck_assert_int_eq(ref_gru_forward(&g, B, T, p.x, NULL, NULL, out, hn, NULL), 0);
    ck_assert_mem_eq(out, p.out, sizeof out);
    ck_assert_mem_eq(hn, p.hn, sizeof hn);

    ck_assert_int_eq(ref_gru_forward(&g, B, T, p.x, NULL, NULL, out, NULL, &tape), 0);
    ck_assert_int_eq(ref_gru_backward(&g, &tape, p.w_out, NULL, dx1, dh01), 0);
    ck_assert_int_eq(ref_gru_backward(&g, &tape, p.w_out, zeros, dx2, dh02), 0);
    ck_assert_mem_eq(dx1, dx2, sizeof dx1);
    ck_assert_mem_eq(dh01, dh02, sizeof dh01);
    ck_assert_int_eq(ref_gru_backward(&g, &tape, NULL, p.w_hn, dx1, dh01), 0);
    ck_assert_int_eq(ref_gru_backward(&g, &tape, zeros, p.w_hn, dx2, dh02), 0);
    ck_assert_mem_eq(dx1, dx2, sizeof dx1);
    ck_assert_mem_eq(dh01, dh02, sizeof dh01);
    ref_gru_tape_free(&tape);
    problem_free(&p);
    ref_gru_free(&g);
}
END_TEST

/* A sequence of length len in a padded batch gives what it gives alone with
 * T = len; its padded outputs are 0; parameter gradients add over the batch. */
START_TEST(lengths_act_as_separate_shorter_sequences)
{
    for (int before = 0; before < 2; before++) {
        const size_t B = 3, T = 5, lengths[3] = {3, 5, 1}, I = 2, H = 3, L = 2, D = 2;
        const size_t DH = D * H;
        ref_gru g, one;
        ref_rng rng;
        problem p;
        ref_gru_tape tape;
        double dx[3 * 5 * 2], dh0[4 * 3 * 3];
        double *sum_grad[REF_GRU_MAX_PARAMS];
        ck_assert_int_eq(ref_gru_init(&g, I, H, L, 1, before), 0);
        ck_assert_int_eq(ref_gru_init(&one, I, H, L, 1, before), 0);
        ref_rng_seed(&rng, 11);
        ref_gru_randomize(&g, &rng, 0.9);
        for (size_t i = 0; i < g.num_params; i++) {
            memcpy(one.param[i], g.param[i], g.numel[i] * sizeof(double));
            sum_grad[i] = calloc(g.numel[i], sizeof(double));
            ck_assert_ptr_nonnull(sum_grad[i]);
        }
        problem_init(&p, &g, B, T, lengths, &rng);
        ck_assert_int_eq(ref_gru_forward(&g, B, T, p.x, p.h0, p.len, p.out, p.hn, &tape), 0);
        ck_assert_int_eq(ref_gru_backward(&g, &tape, p.w_out, p.w_hn, dx, dh0), 0);
        ref_gru_tape_free(&tape);
        for (size_t b = 0; b < B; b++) {
            const size_t len = lengths[b];
            double x1[5 * 2], h01[4 * 3], wo1[5 * 6], wh1[4 * 3], out1[5 * 6], hn1[4 * 3];
            double dx1[5 * 2], dh01[4 * 3];
            memcpy(x1, p.x + b * T * I, len * I * sizeof(double));
            memcpy(wo1, p.w_out + b * T * DH, len * DH * sizeof(double));
            for (size_t r = 0; r < L * D; r++) {
                memcpy(h01 + r * H, p.h0 + (r * B + b) * H, H * sizeof(double));
                memcpy(wh1 + r * H, p.w_hn + (r * B + b) * H, H * sizeof(double));
            }
            ref_gru_zero_grad(&one);
            ck_assert_int_eq(ref_gru_forward(&one, 1, len, x1, h01, NULL, out1, hn1, &tape), 0);
            ck_assert_int_eq(ref_gru_backward(&one, &tape, wo1, wh1, dx1, dh01), 0);
            ref_gru_tape_free(&tape);
            assert_close(p.out + b * T * DH, out1, len * DH, 1e-15, "out");
            for (size_t e = len * DH; e < T * DH; e++)
                if (p.out[b * T * DH + e] != 0.0) ck_abort_msg("out of a padded step");
            assert_close(dx + b * T * I, dx1, len * I, 1e-15, "dx");
            for (size_t e = len * I; e < T * I; e++)
                if (dx[b * T * I + e] != 0.0) ck_abort_msg("dx of a padded step");
            for (size_t r = 0; r < L * D; r++) {
                assert_close(p.hn + (r * B + b) * H, hn1 + r * H, H, 1e-15, "h_n");
                assert_close(dh0 + (r * B + b) * H, dh01 + r * H, H, 1e-15, "dh0");
            }
            for (size_t i = 0; i < g.num_params; i++)
                for (size_t e = 0; e < g.numel[i]; e++) sum_grad[i][e] += one.grad[i][e];
        }
        for (size_t i = 0; i < g.num_params; i++) {
            assert_close(g.grad[i], sum_grad[i], g.numel[i], 1e-14, g.name[i]);
            free(sum_grad[i]);
        }
        problem_free(&p);
        ref_gru_free(&g);
        ref_gru_free(&one);
    }
}
END_TEST

/* The reverse half of a one-layer bidirectional GRU is a unidirectional GRU
 * with the _reverse weights run over each sequence's valid steps reversed. */
START_TEST(reverse_direction_reads_valid_steps_backwards)
{
    for (int before = 0; before < 2; before++) {
        const size_t B = 2, T = 4, lengths[2] = {2, 4}, I = 3, H = 2;
        ref_gru bi, uni;
        ref_rng rng;
        problem p;
        ck_assert_int_eq(ref_gru_init(&bi, I, H, 1, 1, before), 0);
        ck_assert_int_eq(ref_gru_init(&uni, I, H, 1, 0, before), 0);
        ref_rng_seed(&rng, 5);
        ref_gru_randomize(&bi, &rng, 0.9);
        for (int k = 0; k < 4; k++)
            memcpy(uni.param[k], bi.param[4 + k], bi.numel[4 + k] * sizeof(double));
        problem_init(&p, &bi, B, T, lengths, &rng);
        ck_assert_int_eq(ref_gru_forward(&bi, B, T, p.x, p.h0, p.len, p.out, p.hn, NULL), 0);
        for (size_t b = 0; b < B; b++) {
            const size_t len = lengths[b];
            double xr[4 * 3], outr[4 * 2], hnr[2]; /* (len, I), (len, H), (H) */
            for (size_t t = 0; t < len; t++)
                memcpy(xr + t * I, p.x + (b * T + len - 1 - t) * I, I * sizeof(double));
            ck_assert_int_eq(
                ref_gru_forward(&uni, 1, len, xr, p.h0 + (1 * B + b) * H, NULL, outr, hnr, NULL),
                0);
            for (size_t t = 0; t < len; t++)
                assert_close(p.out + (b * T + t) * 2 * H + H, outr + (len - 1 - t) * H, H, 1e-15,
                             "reverse out");
            assert_close(p.hn + (1 * B + b) * H, hnr, H, 1e-15, "reverse h_n");
        }
        problem_free(&p);
        ref_gru_free(&bi);
        ref_gru_free(&uni);
    }
}
END_TEST

START_TEST(rejects_bad_sizes_and_lengths)
{
    ref_gru g;
    const double x[2] = {0, 0};
    double out[2], hn[1];
    const size_t zero = 0, three = 3;
    ck_assert_int_eq(ref_gru_init(&g, 0, 1, 1, 0, 0), -1);
    ck_assert_int_eq(ref_gru_init(&g, 1, 1, REF_GRU_MAX_LAYERS + 1, 0, 0), -1);
    ck_assert_int_eq(ref_gru_init(&g, 1, 1, 1, 0, 0), 0);
    ck_assert_int_eq(ref_gru_forward(&g, 1, 2, x, NULL, &zero, out, hn, NULL), -1);
    ck_assert_int_eq(ref_gru_forward(&g, 1, 2, x, NULL, &three, out, hn, NULL), -1);
    ref_gru_free(&g);
}
END_TEST

START_TEST(param_names_follow_pytorch_state_dict_order)
{
    static const char *const want[16] = {
        "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",
        "bias_hh_l0",           "weight_ih_l0_reverse", "weight_hh_l0_reverse",
        "bias_ih_l0_reverse",   "bias_hh_l0_reverse",   "weight_ih_l1",
        "weight_hh_l1",         "bias_ih_l1",           "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse",
        "bias_hh_l1_reverse"};
    ref_gru g;
    ck_assert_int_eq(ref_gru_init(&g, 5, 3, 2, 1, 0), 0);
    ck_assert_uint_eq(g.num_params, 16);
    for (size_t i = 0; i < 16; i++) {
        ck_assert_str_eq(g.name[i], want[i]);
        ck_assert_int_eq(ref_gru_find(&g, want[i]), (int)i);
    }
    ck_assert_int_eq(ref_gru_find(&g, "weight_ih_l2"), -1);
    /* (3H, I), (3H, H), (3H), (3H); layer 1 reads D*H = 6 */
    ck_assert_uint_eq(g.shape[0][0], 9);
    ck_assert_uint_eq(g.shape[0][1], 5);
    ck_assert_uint_eq(g.shape[1][1], 3);
    ck_assert_uint_eq(g.ndim[2], 1);
    ck_assert_uint_eq(g.shape[8][1], 6);
    ck_assert_uint_eq(ref_gru_num_scalars(&g),
                      2 * (9 * 5 + 9 * 3 + 18) + 2 * (9 * 6 + 9 * 3 + 18));
    ref_gru_free(&g);
}
END_TEST

Suite *suite_gru_reference(void)
{
    Suite *s = suite_create("gru_reference");
    TCase *tc = tcase_create("gru_reference");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, one_step_worked_by_hand);
    tcase_add_test(tc, param_names_follow_pytorch_state_dict_order);
    tcase_add_test(tc, matches_pytorch);
    tcase_add_test(tc, null_arguments_mean_defaults);
    tcase_add_test(tc, lengths_act_as_separate_shorter_sequences);
    tcase_add_test(tc, reverse_direction_reads_valid_steps_backwards);
    tcase_add_test(tc, rejects_bad_sizes_and_lengths);
    tcase_add_loop_test(tc, backward_matches_finite_differences, 0, 24);
    suite_add_tcase(s, tc);
    return s;
}
