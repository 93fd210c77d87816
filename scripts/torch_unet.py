#!/usr/bin/env python3
"""
The shipped UNet (src/core/model/unet.ts) re-built layer for layer in PyTorch eager, for the
anchor of `npm run bench -- --torch` (issue 14). Never a requirement of the tests or CI: the
bench says plainly when torch is absent.

Input: one JSON line on stdin, the architecture description the bench builds from the tfjs model
(src/core/torchBench.ts, `unetArchDescription`): the UNet config, every parameter's name and shape
in tfjs's layout, the parameter count, batch, context length and timing options.

  python3 scripts/torch_unet.py --check-arch   (no torch needed) rebuilds the parameter list from
      the config alone and compares it with the description's, name by name and shape by shape;
      prints one JSON line {"ok", "count", "mismatches"}; exit 1 on any mismatch.
  python3 scripts/torch_unet.py                 (needs torch) builds the model, asserts the same
      names, shapes and count, then serves timing requests, one JSON line each on stdin:
        {"cmd": "time", "what": "forward" | "train", "warmup": 2, "runs": 10}
      answered by {"ok": true, "what", "ms": [...], "median"}; {"cmd": "quit"} ends it.
        {"cmd": "check", "file": path} reads float32s from the file — every parameter in the
      description's order and tfjs's layout, then z [B,S,S,C], t [B], ctx [B,L,D] and tfjs's output
      ε̂ [B,S,S,C] — runs the torch forward with those weights and answers
      {"ok": true, "what": "check", "maxAbsDiff", "maxAbs"} (the same UNet gives the same ε̂).
      The first line it prints is {"ready": true, "torch", "threads", "params", ...} or
      {"ready": false, "error"}.

Layout: PyTorch's native NCHW (its fast path on CPU); convolution weights [k,k,ci,co] become
[co,ci,k,k]. Patchify keeps tfjs's channel order ((dy·p + dx)·C + c), so the check can compare. One thread (torch.set_num_threads(1)). The training step is the bench's: MSE
between ε and ε̂ averaged over every element, Adam (lr 1e-4, eps 1e-7: tfjs's defaults).
"""
import json
import math
import sys
import time


# ---------------------------------------------------------------- architecture (pure Python)

def blocks(cfg):
    c0, c1 = cfg["channels"]
    return [
        ("down0", c0, c0),
        ("down1", c0, c1),
        ("mid", c1, c1),
        ("up1", 2 * c1, c1),
        ("up0", c1 + c0, c0),
    ]


def unet_param_list(cfg):
    """[(name, shape in tfjs's layout, init)] in initUNet's order; init is ('zeros'|'ones', None) or ('fanIn', fan_in, gain)."""
    out = []

    def add(name, shape, init):
        out.append((name, list(shape), init))

    def conv(name, cin, cout, k=3, gain=1.0):
        add(name + "/w", [k, k, cin, cout], ("fanIn", k * k * cin, gain))
        add(name + "/b", [cout], ("zeros",))

    def dense(name, nin, nout, gain=1.0, bias=True):
        add(name + "/w", [nin, nout], ("fanIn", nin, gain))
        if bias:
            add(name + "/b", [nout], ("zeros",))

    def norm(name, c):
        add(name + "/g", [c], ("ones",))
        add(name + "/b", [c], ("zeros",))

    temb = 2 * cfg["timeDim"]
    dense("time/fc1", cfg["timeDim"], temb)
    dense("time/fc2", temb, temb)
    patch = cfg.get("patch") or 1
    pc = cfg["latentChannels"] * patch * patch
    conv("conv_in", pc, cfg["channels"][0])
    for name, cin, cout in blocks(cfg):
        r = name + "/res"
        norm(r + "/gn1", cin)
        conv(r + "/conv1", cin, cout)
        dense(r + "/temb", temb, cout)
        norm(r + "/gn2", cout)
        conv(r + "/conv2", cout, cout)
        if cin != cout:
            conv(r + "/skip", cin, cout, 1)
        a = name + "/attn"
        norm(a + "/gn", cout)
        dense(a + "/q", cout, cout, 1.0, False)
        dense(a + "/k", cfg["ctxDim"], cout, 1.0, False)
        dense(a + "/v", cfg["ctxDim"], cout, 1.0, False)
        dense(a + "/out", cout, cout, 0.5)
    norm("out/gn", cfg["channels"][0])
    conv("out/conv", cfg["channels"][0], pc, 3, 0.1)
    hc = cfg.get("fullResHead") or 0
    if hc:
        conv("head/conv1", cfg["latentChannels"] + cfg["channels"][0], hc)
        dense("head/temb", temb, hc)
        norm("head/gn", hc)
        conv("head/conv2", hc, cfg["latentChannels"], 3, 0.1)
    return out


def check_arch(desc):
    """Compares the config's parameter list with the description's: (ok, count, mismatches)."""
    mine = [(n, s) for n, s, _ in unet_param_list(desc["config"])]
    theirs = [(p["name"], list(p["shape"])) for p in desc["params"]]
    mismatches = []
    md, td = dict(mine), dict(theirs)
    for n, s in mine:
        if n not in td:
            mismatches.append("missing in tfjs: %s %s" % (n, s))
        elif td[n] != s:
            mismatches.append("shape of %s: python %s, tfjs %s" % (n, s, td[n]))
    for n, s in theirs:
        if n not in md:
            mismatches.append("missing in python: %s %s" % (n, s))
    count = sum(math.prod(s) for _, s in mine)
    if count != desc["paramCount"]:
        mismatches.append("parameter count: python %d, tfjs %d" % (count, desc["paramCount"]))
    return not mismatches, count, mismatches


# ---------------------------------------------------------------- the model (torch)

def build(desc, torch):
    F = torch.nn.functional
    cfg = desc["config"]
    g = torch.Generator().manual_seed(int(desc.get("seed", 0)))
    P = {}
    for name, shape, init in unet_param_list(cfg):
        if init[0] == "zeros":
            t = torch.zeros(shape)
        elif init[0] == "ones":
            t = torch.ones(shape)
        else:
            t = torch.randn(shape, generator=g) * (init[2] / math.sqrt(init[1]))
        if len(shape) == 4:
            t = t.permute(3, 2, 0, 1).contiguous()  # [k,k,ci,co] -> [co,ci,k,k]
        P[name] = torch.nn.Parameter(t)
    groups, heads = cfg["groups"], cfg["heads"]
    patch = cfg.get("patch") or 1

    def conv(name, x):
        w = P[name + "/w"]
        return F.conv2d(x, w, P[name + "/b"], padding=w.shape[-1] // 2)

    def dense(name, x):
        y = x @ P[name + "/w"]
        b = P.get(name + "/b")
        return y + b if b is not None else y

    def gn(name, x):
        return F.group_norm(x, groups, P[name + "/g"], P[name + "/b"], 1e-5)

    def res(name, x, temb):
        h = conv(name + "/conv1", F.silu(gn(name + "/gn1", x)))
        h = h + dense(name + "/temb", F.silu(temb))[:, :, None, None]
        h = conv(name + "/conv2", F.silu(gn(name + "/gn2", h)))
        skip = x if (name + "/skip/w") not in P else conv(name + "/skip", x)
        return skip + h

    def attn(name, x, ctx):
        B, C, H, W = x.shape
        hx = gn(name + "/gn", x).flatten(2).transpose(1, 2)  # [B,HW,C]
        q, k, v = dense(name + "/q", hx), dense(name + "/k", ctx), dense(name + "/v", ctx)
        hd = C // heads
        sp = lambda t: t.reshape(B, -1, heads, hd).transpose(1, 2)  # [B,h,n,hd]
        a = torch.softmax((sp(q) @ sp(k).transpose(-1, -2)) * (1 / math.sqrt(hd)), -1) @ sp(v)
        a = a.transpose(1, 2).reshape(B, H * W, C)
        return x + dense(name + "/out", a).transpose(1, 2).reshape(B, C, H, W)

    half = cfg["timeDim"] // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)

    def patchify(z):
        B, C, H, W = z.shape
        return z.reshape(B, C, H // patch, patch, W // patch, patch).permute(0, 3, 5, 1, 2, 4).reshape(B, patch * patch * C, H // patch, W // patch)

    def unpatchify(x):
        B, PC, h, w = x.shape
        C = PC // (patch * patch)
        return x.reshape(B, patch, patch, C, h, w).permute(0, 3, 4, 1, 5, 2).reshape(B, C, h * patch, w * patch)

    def forward(z, t, ctx):
        args = t[:, None] * freqs[None, :]
        temb = dense("time/fc2", F.silu(dense("time/fc1", torch.cat([torch.cos(args), torch.sin(args)], 1))))
        block = lambda name, x: attn(name + "/attn", res(name + "/res", x, temb), ctx)
        h = conv("conv_in", patchify(z) if patch > 1 else z)
        s0 = block("down0", h)
        s1 = block("down1", F.avg_pool2d(s0, 2))
        h = block("mid", s1)
        h = block("up1", torch.cat([h, s1], 1))
        h = block("up0", torch.cat([F.interpolate(h, scale_factor=2, mode="nearest"), s0], 1))
        eps = conv("out/conv", F.silu(gn("out/gn", h)))
        eps = unpatchify(eps) if patch > 1 else eps
        if not cfg.get("fullResHead"):
            return eps
        f = h
        s = patch
        while s > 1:
            f = F.interpolate(f, scale_factor=2, mode="nearest")
            s //= 2
        e = conv("head/conv1", torch.cat([z, f], 1))
        e = e + dense("head/temb", F.silu(temb))[:, :, None, None]
        return eps + conv("head/conv2", F.silu(gn("head/gn", e)))

    return P, forward


def check_against(path, desc, P, forward, torch):
    import numpy as np
    cfg = desc["config"]
    flat = np.fromfile(path, dtype=np.float32)
    at = 0

    def take(shape):
        nonlocal at
        n = math.prod(shape)
        x = torch.from_numpy(flat[at:at + n].copy()).reshape(shape)
        at += n
        return x

    with torch.no_grad():
        saved = {k: v.detach().clone() for k, v in P.items()}
        for p in desc["params"]:
            w = take(p["shape"])
            P[p["name"]].copy_(w.permute(3, 2, 0, 1) if w.dim() == 4 else w)
        B, S, C = desc["batch"], cfg["latentSize"], cfg["latentChannels"]
        z = take([B, S, S, C]).permute(0, 3, 1, 2).contiguous()
        t = take([B])
        ctx = take([B, desc["ctxLen"], cfg["ctxDim"]])
        want = take([B, S, S, C])
        if at != flat.size:
            return {"ok": False, "error": "check file has %d floats, expected %d" % (flat.size, at)}
        got = forward(z, t, ctx).permute(0, 2, 3, 1)
        for k, v in saved.items():
            P[k].copy_(v)
    return {"ok": True, "what": "check", "maxAbsDiff": float((got - want).abs().max()), "maxAbs": float(want.abs().max())}


def serve(desc):
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install
        print(json.dumps({"ready": False, "error": "torch is not importable by %s: %s" % (sys.executable, e)}), flush=True)
        return 3
    ok, count, mismatches = check_arch(desc)
    if not ok:
        print(json.dumps({"ready": False, "error": "architecture mismatch: " + "; ".join(mismatches[:5])}), flush=True)
        return 1
    torch.set_num_threads(int(desc.get("threads", 1)))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    P, forward = build(desc, torch)
    n = sum(p.numel() for p in P.values())
    assert n == desc["paramCount"], "torch model has %d parameters, tfjs %d" % (n, desc["paramCount"])
    cfg = desc["config"]
    B, S, C = desc["batch"], cfg["latentSize"], cfg["latentChannels"]
    g = torch.Generator().manual_seed(1)
    z = torch.randn(B, C, S, S, generator=g)
    eps = torch.randn(B, C, S, S, generator=g)
    t = torch.randint(0, 1000, (B,), generator=g).float()
    ctx = torch.randn(B, desc["ctxLen"], cfg["ctxDim"], generator=g)
    opt = torch.optim.Adam(list(P.values()), lr=1e-4, eps=1e-7)
    with torch.no_grad():
        shape = list(forward(z, t, ctx).shape)
    assert shape == [B, C, S, S], "output shape %s" % shape

    def fwd():
        with torch.no_grad():
            forward(z, t, ctx)

    def train():
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((forward(z, t, ctx) - eps) ** 2)
        loss.backward()
        opt.step()
        return loss.item()

    print(json.dumps({
        "ready": True, "torch": torch.__version__, "python": sys.version.split()[0], "executable": sys.executable,
        "threads": torch.get_num_threads(), "params": n, "batch": B,
    }), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("cmd") == "quit":
            break
        if req.get("cmd") == "check":
            print(json.dumps(check_against(req["file"], desc, P, forward, torch)), flush=True)
            continue
        if req.get("cmd") != "time" or req.get("what") not in ("forward", "train"):
            print(json.dumps({"ok": False, "error": "unknown request %s" % line}), flush=True)
            continue
        fn = fwd if req["what"] == "forward" else train
        for _ in range(int(req.get("warmup", 2))):
            fn()
        ms = []
        for _ in range(int(req.get("runs", 5))):
            t0 = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t0) * 1000)
        srt = sorted(ms)
        print(json.dumps({"ok": True, "what": req["what"], "ms": ms, "median": srt[len(srt) // 2]}), flush=True)
    return 0


def main():
    desc = json.loads(sys.stdin.readline())
    if "--check-arch" in sys.argv[1:]:
        ok, count, mismatches = check_arch(desc)
        print(json.dumps({"ok": ok, "count": count, "mismatches": mismatches}), flush=True)
        return 0 if ok else 1
    return serve(desc)


if __name__ == "__main__":
    sys.exit(main())
