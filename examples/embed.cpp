/*
 * embed - using libgrugan from C++ (C++11): the C API with RAII and
 * exceptions around it.
 *
 * Shows: std::unique_ptr with the library's free functions as deleters, a
 * status check that throws with the handle's message, a C++ lambda as the
 * progress callback (it must not throw: exceptions may not cross the C
 * library), training on a series held in a std::vector, saving a checkpoint
 * into memory and loading a generator back from those bytes (the way to ship
 * a model inside an application), sampling in data units.
 *
 *   embed [--steps N]
 */
#include <grugan.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// One owning pointer type per handle kind, freed by the library's function.
template <typename T, void (*Free)(T *)> struct deleter {
    void operator()(T *p) const { Free(p); }
};
using dataset_ptr = std::unique_ptr<grugan_dataset, deleter<grugan_dataset, grugan_dataset_free>>;
using generator_ptr =
    std::unique_ptr<grugan_generator, deleter<grugan_generator, grugan_generator_free>>;
using discriminator_ptr =
    std::unique_ptr<grugan_discriminator, deleter<grugan_discriminator, grugan_discriminator_free>>;
using optimizer_ptr =
    std::unique_ptr<grugan_optimizer, deleter<grugan_optimizer, grugan_optimizer_free>>;
using trainer_ptr = std::unique_ptr<grugan_trainer, deleter<grugan_trainer, grugan_trainer_free>>;

// Throws with the library's message when a call failed.
void check(int status, const std::string &what, const char *message)
{
    if (status != GRUGAN_OK)
        throw std::runtime_error(what + ": " + message + " (" + grugan_status_string(status) + ")");
}

// The creation functions report through a grugan_error.
template <typename Handle, typename Create> Handle create(const std::string &what, Create &&make)
{
    typename Handle::pointer raw = nullptr;
    grugan_error err = {0, ""};
    check(make(&raw, &err), what, err.message);
    return Handle(raw);
}

// A whole decimal number >= 1, nothing else.
bool parse_count(const char *s, unsigned long *out)
{
    char *end = nullptr;
    if (*s < '0' || *s > '9') return false;
    errno = 0;
    *out = std::strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *out > 0;
}

} // namespace

int main(int argc, char **argv)
{
    const size_t T = 16, F = 2, rows = 2000;
    unsigned long steps = 100;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::printf("usage: embed [--steps N]\n"
                        "  --steps N  training steps on a small built-in series (default 100)\n");
            return 0;
        }
        if (std::strcmp(argv[i], "--steps") == 0 && i + 1 < argc &&
            parse_count(argv[i + 1], &steps)) {
            i++;
            continue;
        }
        std::fprintf(stderr, "embed: bad option or value: %s (see --help)\n", argv[i]);
        return 2;
    }

    try {
        // A long series (rows, F): a noisy sine and a slower ramp.
        std::vector<float> series(rows * F);
        for (size_t r = 0; r < rows; r++) {
            const double x = double(r);
            series[r * F] = float(10.0 + 3.0 * std::sin(0.3 * x) + 0.2 * std::cos(7.1 * x));
            series[r * F + 1] = float(double(r % 50) / 50.0);
        }
        grugan_dataset_config dc = GRUGAN_DATASET_CONFIG_INIT;
        dc.sequence_length = T;
        dc.stride = 4;
        auto data = create<dataset_ptr>("dataset", [&](grugan_dataset **out, grugan_error *e) {
            return grugan_dataset_from_series(nullptr, &dc, series.data(), rows, F, out, e);
        });

        grugan_generator_config gc = GRUGAN_GENERATOR_CONFIG_INIT;
        gc.noise_size = F;
        gc.output_size = F;
        gc.hidden_size = 16;
        gc.num_layers = 2;
        auto gen = create<generator_ptr>("generator", [&](grugan_generator **out, grugan_error *e) {
            return grugan_generator_create(nullptr, &gc, out, e);
        });
        grugan_discriminator_config dic = GRUGAN_DISCRIMINATOR_CONFIG_INIT;
        dic.input_size = F;
        dic.hidden_size = 16;
        dic.num_layers = 1;
        auto disc = create<discriminator_ptr>(
            "discriminator", [&](grugan_discriminator **out, grugan_error *e) {
                return grugan_discriminator_create(nullptr, &dic, out, e);
            });
        auto gen_opt =
            create<optimizer_ptr>("optimizer", [&](grugan_optimizer **out, grugan_error *e) {
                return grugan_optimizer_create(nullptr, nullptr, grugan_generator_params(gen.get()),
                                               out, e);
            });
        auto disc_opt =
            create<optimizer_ptr>("optimizer", [&](grugan_optimizer **out, grugan_error *e) {
                return grugan_optimizer_create(nullptr, nullptr,
                                               grugan_discriminator_params(disc.get()), out, e);
            });
        grugan_trainer_config tc = GRUGAN_TRAINER_CONFIG_INIT;
        tc.batch_size = 64;
        tc.total_steps = steps;
        // The trainer borrows the five handles: declared after them, it is freed first.
        auto tr = create<trainer_ptr>("trainer", [&](grugan_trainer **out, grugan_error *e) {
            return grugan_trainer_create(nullptr, &tc, gen.get(), disc.get(), gen_opt.get(),
                                         disc_opt.get(), data.get(), out, e);
        });

        // A captureless lambda converts to the C function pointer; user data goes through
        // the void pointer.
        unsigned long every = steps >= 5 ? steps / 5 : 1;
        grugan_trainer_set_callback(
            tr.get(),
            [](const grugan_progress *p, void *user) -> int {
                if (p->step % *static_cast<unsigned long *>(user) == 0)
                    std::printf("step %llu  D %.3f  G %.3f\n", (unsigned long long)p->step,
                                double(p->d_loss), double(p->g_loss));
                return 0;
            },
            &every);
        check(grugan_trainer_run(tr.get()), "training", grugan_trainer_message(tr.get()));

        // Checkpoint into memory: ask for the size, then fill.
        size_t size = 0;
        grugan_trainer_save_buffer(tr.get(), nullptr, 0, &size);
        std::vector<unsigned char> bytes(size);
        check(grugan_trainer_save_buffer(tr.get(), bytes.data(), bytes.size(), &size), "saving",
              grugan_trainer_message(tr.get()));
        std::printf("checkpoint: %zu bytes in memory\n", size);

        // What a deployed application does: a generator from the bytes alone.
        auto loaded =
            create<generator_ptr>("loading", [&](grugan_generator **out, grugan_error *e) {
                return grugan_generator_load_buffer(nullptr, bytes.data(), bytes.size(), out, e);
            });
        const size_t n = 3;
        std::vector<float> samples(n * T * F);
        check(grugan_generator_sample(loaded.get(), 42, n, T, nullptr, nullptr, samples.data()),
              "sampling", grugan_generator_message(loaded.get()));
        check(grugan_generator_unscale(loaded.get(), samples.data(), samples.size()), "unscaling",
              grugan_generator_message(loaded.get()));
        for (size_t i = 0; i < n; i++) {
            std::printf("sequence %zu, feature 0:", i);
            for (size_t t = 0; t < T; t++)
                std::printf(" %.2f", double(samples[(i * T + t) * F]));
            std::printf("\n");
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "embed: %s\n", e.what());
        return 1;
    }
    return 0;
}
