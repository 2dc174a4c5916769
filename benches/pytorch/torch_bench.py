#!/usr/bin/env python3
"""PyTorch (CPU) and numpy peers for workloads W1..W7 (see docs/performance.md).

Usage:
  .venv/bin/python torch_bench.py --threads N [--workloads w1,w2,w3,w4,w5] [--iters K]
  .venv/bin/python torch_bench.py --threads N --workloads w1-numpy     # numpy/OpenBLAS sgemm only

One line per figure:
  peer=<..> workload=<..> case=<..> threads=<n> median_ms=<..> min_ms=<..> iters=<k> [gflops_median=.. gflops_best=..]

Each iteration is timed separately with time.perf_counter after 3 warm-up iterations.
"""
import argparse
import os
import statistics
import sys
import time

WARMUP = 3


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--workloads", default="w1,w2,w3,w4,w5,w6,w7")
    p.add_argument("--iters", type=int, default=None, help="override timed iterations")
    return p.parse_args()


ARGS = parse()
N = ARGS.threads
# Must be set before numpy / torch load their BLAS / OpenMP runtimes.
os.environ["OMP_NUM_THREADS"] = str(N)
os.environ["OPENBLAS_NUM_THREADS"] = str(N)
os.environ["MKL_NUM_THREADS"] = str(N)

import numpy as np  # noqa: E402


def time_it(fn, iters):
    for _ in range(WARMUP):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts), min(ts), len(ts)


def report(peer, workload, case, med, mn, n, flops=None):
    line = (f"peer={peer} workload={workload} case={case} threads={N} "
            f"median_ms={med:.4f} min_ms={mn:.4f} iters={n}")
    if flops is not None:
        line += (f" gflops_median={flops / (med * 1e-3) / 1e9:.2f}"
                 f" gflops_best={flops / (mn * 1e-3) / 1e9:.2f}")
    print(line, flush=True)


def gemm_iters(n):
    return {64: 2000, 256: 200, 512: 50}.get(n, 20)


SIZES = [64, 256, 512, 1024]


# ------------------------------------------------------------------ W1 numpy
def w1_numpy():
    try:
        from threadpoolctl import threadpool_info
        info = [(d.get("internal_api"), d.get("version"), d.get("architecture"),
                 d.get("num_threads")) for d in threadpool_info()]
    except Exception as e:  # pragma: no cover
        info = f"threadpoolctl unavailable: {e}"
    ct = os.environ.get("OPENBLAS_CORETYPE", "<unset>")
    l2 = os.environ.get("OPENBLAS_L2_SIZE", "<unset>")
    print(f"# numpy {np.__version__} threadpool_info={info} "
          f"OPENBLAS_CORETYPE={ct} OPENBLAS_L2_SIZE={l2}", flush=True)
    rng = np.random.default_rng(1)
    tag = "numpy(coretype=" + ct + ")"
    for n in SIZES:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        med, mn, k = time_it(lambda: np.matmul(a, b, out=c), gemm_iters(n))
        report(tag, "w1-sgemm", f"n={n}", med, mn, k, 2.0 * n ** 3)


# ------------------------------------------------------------------ torch
def torch_setup():
    import torch
    torch.set_num_threads(N)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__} num_threads={torch.get_num_threads()} "
          f"interop={torch.get_num_interop_threads()} "
          f"cpu_capability={torch.backends.cpu.get_cpu_capability()} "
          f"mkldnn={torch.backends.mkldnn.is_available()}", flush=True)
    return torch


def w1_torch(torch):
    g = torch.Generator().manual_seed(1)
    for n in SIZES:
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        c = torch.empty(n, n)
        med, mn, k = time_it(lambda: torch.mm(a, b, out=c), gemm_iters(n))
        report("torch(mm,out=)", "w1-sgemm", f"n={n}", med, mn, k, 2.0 * n ** 3)
        med, mn, k = time_it(lambda: a @ b, gemm_iters(n))
        report("torch(a@b)", "w1-sgemm", f"n={n}", med, mn, k, 2.0 * n ** 3)


def adam(torch, params):
    # default Adam implementation selection (foreach on CPU).
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


def gan_iteration(torch, G, D, opt_g, opt_d, bs, zdim, real_fn, loss_fn):
    ones = torch.ones(bs, 1)
    zeros = torch.zeros(bs, 1)

    def it():
        # D step
        x = real_fn()
        z = torch.randn(bs, zdim)
        fake = G(z).detach()
        opt_d.zero_grad(set_to_none=True)
        loss_d = loss_fn(D(x), ones) + loss_fn(D(fake), zeros)
        loss_d.backward()
        opt_d.step()
        # G step
        z = torch.randn(bs, zdim)
        opt_g.zero_grad(set_to_none=True)
        loss_g = loss_fn(D(G(z)), ones)
        loss_g.backward()
        opt_g.step()
    return it


def w2_torch(torch, iters):
    nn = torch.nn
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    D = nn.Sequential(nn.Linear(2, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2),
                      nn.Linear(128, 1))
    bs = 256
    it = gan_iteration(torch, G, D, adam(torch, G.parameters()), adam(torch, D.parameters()), bs, 16,
                       lambda: torch.randn(bs, 2), nn.BCEWithLogitsLoss())
    med, mn, k = time_it(it, iters)
    report("torch", "w2-mlp-gan-2d", "bs=256", med, mn, k)


def dcgan_models(torch):
    nn = torch.nn
    G = nn.Sequential(
        nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return G.train(), D.train()


def w3_torch(torch, iters):
    nn = torch.nn
    torch.manual_seed(0)
    G, D = dcgan_models(torch)
    bs = 64
    real = torch.rand(bs, 1, 28, 28) * 2 - 1
    assert G(torch.randn(bs, 100)).shape == (bs, 1, 28, 28)
    assert D(real).shape == (bs, 1)

    def fwd():
        with torch.no_grad():
            fake = G(torch.randn(bs, 100))
            D(real)
            D(fake)
    med, mn, k = time_it(fwd, iters)
    report("torch", "w3-dcgan-28", "G.fwd+2xD.fwd(no_grad)", med, mn, k)

    it = gan_iteration(torch, G, D, adam(torch, G.parameters()), adam(torch, D.parameters()), bs, 100,
                       lambda: real, nn.BCEWithLogitsLoss())
    med, mn, k = time_it(it, iters)
    report("torch", "w3-dcgan-28", "train-iter bs=64", med, mn, k)


def w4_torch(torch, iters):
    x = torch.ones(1, requires_grad=True)

    def it():
        y = x
        for _ in range(1000):
            y = y * 1.0001 + 0.0001
        y.backward()
        x.grad = None
    # correctness check
    y = x
    for _ in range(1000):
        y = y * 1.0001 + 0.0001
    y.backward()
    assert abs(x.grad.item() - 1.0001 ** 1000) < 1e-2
    x.grad = None
    med, mn, k = time_it(it, iters)
    report("torch", "w4-scalar-chain", "2000 ops fwd+bwd (total)", med, mn, k)
    print(f"peer=torch workload=w4-scalar-chain case=per-op threads={N} "
          f"median_us_per_op={med * 1e3 / 2000:.4f} min_us_per_op={mn * 1e3 / 2000:.4f}", flush=True)


def w5_torch(torch, iters):
    nn = torch.nn
    torch.manual_seed(0)
    for name, layer, shape in [
        ("w5a-conv2d", nn.Conv2d(64, 128, 4, 2, 1), (64, 64, 14, 14)),
        ("w5b-convtranspose2d", nn.ConvTranspose2d(128, 64, 4, 2, 1), (64, 128, 7, 7)),
    ]:
        x = torch.randn(*shape)

        def fwd():
            with torch.no_grad():
                layer(x)
        med, mn, k = time_it(fwd, iters)
        report("torch", name, "forward", med, mn, k)
        xg = x.clone().requires_grad_(True)

        def fb():
            layer.zero_grad(set_to_none=True)
            xg.grad = None
            layer(xg).sum().backward()
        med, mn, k = time_it(fb, iters)
        report("torch", name, "forward+backward(dx,dW,db)", med, mn, k)


def cyclegan_models(torch):
    """W6's networks, for 1x8x8 images. G: ReflectionPad(3) Conv(1,32,7) IN ReLU, Conv(32,64,3,2,1) IN ReLU,
    2 residual blocks [ReflectionPad(1) Conv(64,64,3) IN ReLU ReflectionPad(1) Conv(64,64,3) IN] + skip,
    ConvT(64,32,3,2,1,output_padding=1) IN ReLU, ReflectionPad(3) Conv(32,1,7) Tanh.
    D (PatchGAN, 1 strided layer): Conv(1,32,4,2,1) LReLU(0.2), Conv(32,64,4,1,1) IN LReLU(0.2), Conv(64,1,4,1,1).
    InstanceNorm2d without affine parameters and without running statistics (PyTorch's default)."""
    nn = torch.nn

    class Res(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.b = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(),
                                   nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

        def forward(self, x):
            return x + self.b(x)

    def G():
        return nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(1, 32, 7), nn.InstanceNorm2d(32), nn.ReLU(),
                             nn.Conv2d(32, 64, 3, 2, 1), nn.InstanceNorm2d(64), nn.ReLU(), Res(64), Res(64),
                             nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(32), nn.ReLU(),
                             nn.ReflectionPad2d(3), nn.Conv2d(32, 1, 7), nn.Tanh())

    def D():
        return nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 1, 1),
                             nn.InstanceNorm2d(64), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 4, 1, 1))
    return G(), G(), D(), D()


def w6_torch(torch, iters):
    """One CycleGAN iteration, batch 64 of 1x8x8: G step on both generators (LSGAN + 10*cycle L1 + 5*identity L1),
    then each D on real vs generated (LSGAN, halved). Adam 2e-4 (0.5, 0.999); one optimizer over both Gs.
    No history pool (it does not change the arithmetic)."""
    torch.manual_seed(0)
    G_ab, G_ba, D_a, D_b = cyclegan_models(torch)
    bs = 64
    a, b = torch.rand(bs, 1, 8, 8) * 2 - 1, torch.rand(bs, 1, 8, 8) * 2 - 1
    assert G_ab(a).shape == a.shape and D_b(b).shape == (bs, 1, 2, 2)
    opt_g = torch.optim.Adam(list(G_ab.parameters()) + list(G_ba.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_da, opt_db = adam(torch, D_a.parameters()), adam(torch, D_b.parameters())
    mse, l1 = torch.nn.MSELoss(), torch.nn.L1Loss()

    def it():
        for p in list(D_a.parameters()) + list(D_b.parameters()):
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        fb, fa = G_ab(a), G_ba(b)
        pb, pa = D_b(fb), D_a(fa)
        loss_g = (mse(pb, torch.ones_like(pb)) + mse(pa, torch.ones_like(pa))
                  + 10 * (l1(G_ba(fb), a) + l1(G_ab(fa), b)) + 5 * (l1(G_ab(b), b) + l1(G_ba(a), a)))
        loss_g.backward()
        opt_g.step()
        for p in list(D_a.parameters()) + list(D_b.parameters()):
            p.requires_grad_(True)
        for D, opt, real, fake in ((D_a, opt_da, a, fa), (D_b, opt_db, b, fb)):
            opt.zero_grad(set_to_none=True)
            pr, pf = D(real), D(fake.detach())
            loss_d = 0.5 * (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf)))
            loss_d.backward()
            opt.step()
    med, mn, k = time_it(it, iters)
    report("torch", "w6-cyclegan-8", "train-iter bs=64", med, mn, k)


def stargan_d(torch, n_dom):
    """W7's D for 1x32x32: Conv(1,64,4,2,1) LReLU(0.01), Conv(64,128,4,2,1) LReLU(0.01), Conv(128,256,4,2,1)
    LReLU(0.01); source head Conv(256,1,3,1,1); class head Conv(256,n_dom,4) (kernel = the 4x4 map)."""
    nn = torch.nn

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.01), nn.Conv2d(64, 128, 4, 2, 1),
                                      nn.LeakyReLU(0.01), nn.Conv2d(128, 256, 4, 2, 1), nn.LeakyReLU(0.01))
            self.src = nn.Conv2d(256, 1, 3, 1, 1)
            self.cls = nn.Conv2d(256, n_dom, 4)

        def forward(self, x):
            h = self.main(x)
            return self.src(h), self.cls(h).flatten(1)
    return D()


def w7_torch(torch, iters):
    """One StarGAN D step, batch 16 of 1x32x32, 5 domains: WGAN loss on real and (given) fake images, cross-entropy
    of the class head on real images, and the gradient penalty 10*E(||grad_xhat D_src(xhat)||_2 - 1)^2 with
    xhat = alpha*x + (1-alpha)*fake, alpha per sample, the norm over each flattened sample; backward through the
    penalty (a double backward through the conv stack); Adam 1e-4 (0.5, 0.999). The fake batch is fixed (G is not
    part of this workload)."""
    torch.manual_seed(0)
    D = stargan_d(torch, 5)
    bs = 16
    x, fake = torch.rand(bs, 1, 32, 32) * 2 - 1, torch.rand(bs, 1, 32, 32) * 2 - 1
    label = torch.randint(0, 5, (bs,))
    opt = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    ce = torch.nn.CrossEntropyLoss()

    def it():
        opt.zero_grad(set_to_none=True)
        src_r, cls_r = D(x)
        src_f, _ = D(fake)
        alpha = torch.rand(bs, 1, 1, 1)
        xhat = (alpha * x + (1 - alpha) * fake).requires_grad_(True)
        src_h, _ = D(xhat)
        g, = torch.autograd.grad(src_h.sum(), xhat, create_graph=True)
        gp = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        loss = -src_r.mean() + src_f.mean() + ce(cls_r, label) + 10 * gp
        loss.backward()
        opt.step()
    med, mn, k = time_it(it, iters)
    report("torch", "w7-stargan-gp-32", "d-step bs=16", med, mn, k)


def main():
    wl = ARGS.workloads.split(",")
    if "w1-numpy" in wl:
        w1_numpy()
    rest = [w for w in wl if w != "w1-numpy"]
    if not rest:
        return
    torch = torch_setup()
    for w in rest:
        if w == "w1":
            w1_torch(torch)
        elif w == "w2":
            w2_torch(torch, ARGS.iters or 50)
        elif w == "w3":
            w3_torch(torch, ARGS.iters or 20)
        elif w == "w4":
            w4_torch(torch, ARGS.iters or 50)
        elif w == "w5":
            w5_torch(torch, ARGS.iters or 20)
        elif w == "w6":
            w6_torch(torch, ARGS.iters or 30)
        elif w == "w7":
            w7_torch(torch, ARGS.iters or 30)
        else:
            sys.exit(f"unknown workload {w}")


if __name__ == "__main__":
    main()
