"""The seed's U-Net family as small PyTorch modules (random weights; see README.md).

Every network maps `image` [N, 1, D, H, W] to 3-class logits [N, 3, D, H, W] and accepts any D, H, W
divisible by 8 (three 2x down-samplings). Only ops that onnxruntime's WebGPU provider runs, or that
VolSeg's WebGPU graph rewrite turns into ops it runs well, are used: Conv (3-D ones are rewritten
as 2-D), InstanceNormalization, LeakyRelu/Relu, MaxPool, ConvTranspose with kernel = stride
(rewritten), Resize (trilinear), Concat, Add, Mul, Sigmoid, and for the transformer MatMul, Softmax,
LayerNormalization, Erf (exact GELU), Reshape and Transpose.
"""

import torch
import torch.nn.functional as F
from torch import nn

CLASSES = 3


def conv_block(cin, cout):
    """Conv3d 3x3x3 pad 1, InstanceNorm3d (affine), LeakyReLU 0.01 (nnU-Net's building block)."""
    return [
        nn.Conv3d(cin, cout, 3, padding=1),
        nn.InstanceNorm3d(cout, affine=True),
        nn.LeakyReLU(0.01),
    ]


class Stage(nn.Sequential):
    """Two conv blocks: the 'double conv' of every U-Net level."""

    def __init__(self, cin, cout):
        super().__init__(*conv_block(cin, cout), *conv_block(cout, cout))


def up(cin, cout):
    """Learned 2x up-sampling: ConvTranspose3d 2x2x2 stride 2 (the 3-D U-Net's 'up-conv')."""
    return nn.ConvTranspose3d(cin, cout, 2, stride=2)


def trilinear2x(x):
    return F.interpolate(x, scale_factor=2.0, mode="trilinear", align_corners=False)


# --- 3-D U-Net (Cicek et al., MICCAI 2016) ---------------------------------------------------


class UNet3D(nn.Module):
    """Encoder of 4 stages (8/16/32/64 channels) with 2x max-pooling between them, decoder of
    up-convs and stages on the concatenated skip connections, 1x1x1 head."""

    def __init__(self, widths=(8, 16, 32, 64)):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.enc0, self.enc1, self.enc2 = Stage(1, w0), Stage(w0, w1), Stage(w1, w2)
        self.bottom = Stage(w2, w3)
        self.pool = nn.MaxPool3d(2)
        self.up2, self.dec2 = up(w3, w2), Stage(2 * w2, w2)
        self.up1, self.dec1 = up(w2, w1), Stage(2 * w1, w1)
        self.up0, self.dec0 = up(w1, w0), Stage(2 * w0, w0)
        self.head = nn.Conv3d(w0, CLASSES, 1)

    def forward(self, x):
        s0 = self.enc0(x)
        s1 = self.enc1(self.pool(s0))
        s2 = self.enc2(self.pool(s1))
        b = self.bottom(self.pool(s2))
        d2 = self.dec2(torch.cat([self.up2(b), s2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), s0], 1))
        return self.head(d0)


# --- Attention U-Net (Oktay et al., MIDL 2018) -----------------------------------------------


class AttentionGate(nn.Module):
    """Additive attention gate on a skip connection: theta(x) by a 2x2x2 stride-2 Conv to the gating
    signal's grid, phi(g) by a 1x1x1 Conv, psi(ReLU(theta + phi)) by a 1x1x1 Conv and a sigmoid,
    trilinear 2x up-sampling of the coefficients back to the skip's grid, then x * alpha and a
    1x1x1 Conv + InstanceNorm (the paper's output transform W)."""

    def __init__(self, cx, cg, ci):
        super().__init__()
        self.theta = nn.Conv3d(cx, ci, 2, stride=2, bias=False)
        self.phi = nn.Conv3d(cg, ci, 1)
        self.psi = nn.Conv3d(ci, 1, 1)
        self.out = nn.Sequential(nn.Conv3d(cx, cx, 1), nn.InstanceNorm3d(cx, affine=True))

    def forward(self, x, g):
        f = F.relu(self.theta(x) + self.phi(g))
        alpha = trilinear2x(torch.sigmoid(self.psi(f)))
        return self.out(x * alpha)


class AttentionUNet(nn.Module):
    """UNet3D's backbone (8/16/32/64 channels); each skip passes an attention gate whose gating
    signal is the coarser decoder feature, before it is concatenated."""

    def __init__(self, widths=(8, 16, 32, 64)):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.enc0, self.enc1, self.enc2 = Stage(1, w0), Stage(w0, w1), Stage(w1, w2)
        self.bottom = Stage(w2, w3)
        self.pool = nn.MaxPool3d(2)
        self.gate2, self.up2, self.dec2 = AttentionGate(w2, w3, w2), up(w3, w2), Stage(2 * w2, w2)
        self.gate1, self.up1, self.dec1 = AttentionGate(w1, w2, w1), up(w2, w1), Stage(2 * w1, w1)
        self.gate0, self.up0, self.dec0 = AttentionGate(w0, w1, w0), up(w1, w0), Stage(2 * w0, w0)
        self.head = nn.Conv3d(w0, CLASSES, 1)

    def forward(self, x):
        s0 = self.enc0(x)
        s1 = self.enc1(self.pool(s0))
        s2 = self.enc2(self.pool(s1))
        b = self.bottom(self.pool(s2))
        d2 = self.dec2(torch.cat([self.up2(b), self.gate2(s2, b)], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), self.gate1(s1, d2)], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), self.gate0(s0, d1)], 1))
        return self.head(d0)


# --- U-Net++ (Zhou et al., DLMIA 2018) --------------------------------------------------------


class UNetPlusPlus(nn.Module):
    """Nested U-Net of depth 4 (backbone 8/16/32/64 channels): node X[i][j] (level i, column j)
    is a Stage on the concatenation of every earlier node of its level X[i][0..j-1] and the
    up-convolved X[i+1][j-1] (the dense skip pathways). Deep supervision: 1x1x1 heads on X[0][1],
    X[0][2] and X[0][3], all at full resolution, output in that order (the last is `logits`)."""

    def __init__(self, widths=(8, 16, 32, 64)):
        super().__init__()
        self.widths = widths
        self.pool = nn.MaxPool3d(2)
        self.nodes = nn.ModuleDict()
        self.ups = nn.ModuleDict()
        for j in range(4):
            for i in range(4 - j):
                if j == 0:
                    cin = 1 if i == 0 else widths[i - 1]
                else:
                    cin = j * widths[i] + widths[i]
                    self.ups[f"{i + 1}_{j - 1}"] = up(widths[i + 1], widths[i])
                self.nodes[f"{i}_{j}"] = Stage(cin, widths[i])
        self.heads = nn.ModuleList(nn.Conv3d(widths[0], CLASSES, 1) for _ in range(3))

    def forward(self, x):
        X = {}
        for i in range(4):
            X[i, 0] = self.nodes[f"{i}_0"](x if i == 0 else self.pool(X[i - 1, 0]))
        for j in range(1, 4):
            for i in range(4 - j):
                inputs = [X[i, k] for k in range(j)]
                inputs.append(self.ups[f"{i + 1}_{j - 1}"](X[i + 1, j - 1]))
                X[i, j] = self.nodes[f"{i}_{j}"](torch.cat(inputs, 1))
        return tuple(head(X[0, j]) for j, head in zip((1, 2, 3), self.heads))


# --- SD-UNet (Gadosey et al., Diagnostics 2020) -----------------------------------------------


class DepthwiseConv3d(nn.Module):
    """Depthwise 3x3x3 convolution (one filter per channel, groups = C, pad 1), stored as the
    `nn.Conv3d` it is (`self.conv`) but computed as one grouped 2-D convolution over depth-shifted
    slices: the C channels' three depth taps are stacked channel-major ([N, C*3, D, H, W]), depth
    moves into the batch ([N*D, C*3, H, W]), and a 3x3 Conv2d with groups = C and weights
    W2[c, t] = W3[c, 0, t] sums the same 27 products per output voxel.

    Why: onnxruntime's WebGPU provider runs every 5-D Conv with its naive Conv3D kernel, which is
    given no `group` (core/providers/webgpu/nn/conv.cc), and VolSeg's Conv3d-as-Conv2d rewrite
    skips grouped Convs; a 2-D grouped Conv runs on the provider's GroupedConv kernel."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.conv = nn.Conv3d(c, c, 3, padding=1, groups=c)

    def forward(self, x):
        c = self.c
        n, h, w = x.shape[0], x.shape[3], x.shape[4]
        zero = torch.zeros_like(x[:, :, :1])
        # Depth taps t = 0, 1, 2: the input shifted by t - 1 along D, zero-filled (the padding).
        taps = [torch.cat([zero, x[:, :, :-1]], 2), x, torch.cat([x[:, :, 1:], zero], 2)]
        s = torch.stack(taps, 2).flatten(1, 2)  # [N, C*3, D, H, W], channel c*3 + t
        s = s.transpose(1, 2).flatten(0, 1)  # [N*D, C*3, H, W]
        y = F.conv2d(s, self.conv.weight.reshape(c, 3, 3, 3), self.conv.bias, padding=1, groups=c)
        return y.reshape(n, -1, c, h, w).transpose(1, 2)

    def reference(self, x):
        """The same layer as a plain grouped Conv3d (for the export's equivalence check)."""
        return self.conv(x)


class SeparableBlock(nn.Sequential):
    """Depthwise 3x3x3 conv, pointwise 1x1x1 conv, InstanceNorm3d, LeakyReLU 0.01."""

    def __init__(self, cin, cout):
        super().__init__(
            DepthwiseConv3d(cin),
            nn.Conv3d(cin, cout, 1),
            nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01),
        )


class SeparableStage(nn.Sequential):
    def __init__(self, cin, cout, first_plain=False):
        first = conv_block(cin, cout) if first_plain else [SeparableBlock(cin, cout)]
        super().__init__(*first, SeparableBlock(cout, cout))


class SDUNet(nn.Module):
    """U-Net of 4 levels (16/32/64/128 channels) whose stages use depthwise-separable convolutions
    (the first conv, on the 1-channel input, is a plain one); InstanceNorm stands in for the
    paper's weight standardisation + group norm. Twice UNet3D's widths at a fraction of its
    parameters."""

    def __init__(self, widths=(16, 32, 64, 128)):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.enc0 = SeparableStage(1, w0, first_plain=True)
        self.enc1, self.enc2 = SeparableStage(w0, w1), SeparableStage(w1, w2)
        self.bottom = SeparableStage(w2, w3)
        self.pool = nn.MaxPool3d(2)
        self.up2, self.dec2 = up(w3, w2), SeparableStage(2 * w2, w2)
        self.up1, self.dec1 = up(w2, w1), SeparableStage(2 * w1, w1)
        self.up0, self.dec0 = up(w1, w0), SeparableStage(2 * w0, w0)
        self.head = nn.Conv3d(w0, CLASSES, 1)

    def forward(self, x):
        s0 = self.enc0(x)
        s1 = self.enc1(self.pool(s0))
        s2 = self.enc2(self.pool(s1))
        b = self.bottom(self.pool(s2))
        d2 = self.dec2(torch.cat([self.up2(b), s2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), s0], 1))
        return self.head(d0)


# --- TransUNet-style hybrid (Chen et al., 2021) ----------------------------------------------


class SelfAttention(nn.Module):
    """Multi-head self-attention with MatMul/Softmax (no fused op), dynamic token count."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, dim = x.shape[0], self.heads * self.hd
        qkv = self.qkv(x).reshape(n, -1, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [N, heads, L, hd]
        att = torch.softmax(torch.matmul(q * self.hd**-0.5, k.transpose(-2, -1)), -1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(n, -1, dim)
        return self.proj(y)


class TransformerBlock(nn.Module):
    """Pre-norm ViT block: x + MHSA(LN(x)), then x + MLP(LN(x)) with GELU."""

    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.ln1, self.att = nn.LayerNorm(dim), SelfAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.att(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TransUNet(nn.Module):
    """Hybrid CNN-Transformer encoder, cascaded up-sampler decoder. CNN stages 8/16/32 with
    max-pooling, then one conv block to 64 channels, reduce the patch 8x; the 1/8 feature map is
    embedded per voxel (1x1x1 Conv to 64, the hybrid ViT's 1x1 patches), given a convolutional
    position encoding (a residual 3x3x3 Conv, as in CPVT, because a learned table would fix the
    token count), flattened to tokens [N, d*h*w, 64], passed through 2 transformer blocks (4 heads,
    MLP 128) and a final LayerNorm, and reshaped back. The decoder up-samples trilinearly 3 times,
    each followed by a Stage on the concatenated CNN skip, then a 1x1x1 head."""

    def __init__(self, widths=(8, 16, 32, 64), dim=64, heads=4, mlp=128, depth=2):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.enc0, self.enc1, self.enc2 = Stage(1, w0), Stage(w0, w1), Stage(w1, w2)
        self.enc3 = nn.Sequential(*conv_block(w2, w3))
        self.pool = nn.MaxPool3d(2)
        self.embed = nn.Conv3d(w3, dim, 1)
        self.pos = nn.Conv3d(dim, dim, 3, padding=1)
        self.blocks = nn.ModuleList(TransformerBlock(dim, heads, mlp) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.dec2 = Stage(dim + w2, w2)
        self.dec1 = Stage(w2 + w1, w1)
        self.dec0 = Stage(w1 + w0, w0)
        self.head = nn.Conv3d(w0, CLASSES, 1)

    def forward(self, x):
        s0 = self.enc0(x)
        s1 = self.enc1(self.pool(s0))
        s2 = self.enc2(self.pool(s1))
        f = self.embed(self.enc3(self.pool(s2)))
        f = f + self.pos(f)
        t = f.flatten(2).transpose(1, 2)  # [N, L, dim]
        for block in self.blocks:
            t = block(t)
        f = self.norm(t).transpose(1, 2).reshape(f.shape)
        d2 = self.dec2(torch.cat([trilinear2x(f), s2], 1))
        d1 = self.dec1(torch.cat([trilinear2x(d2), s1], 1))
        d0 = self.dec0(torch.cat([trilinear2x(d1), s0], 1))
        return self.head(d0)
