# libtorch operators that DJL 0.36's JNI does not expose, as TorchScript. This is the serialized-code form that
# torch.jit.save writes (the file code/__torch__.py of a saved module); TorchOps.java packs it into a module
# archive and loads it with libtorch's own loader. Each method is one call from Java: a fused kernel where
# the engine otherwise chains several DJL ops, each a pass over memory and a temporary.
class Ops(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  def forward(self: __torch__.Ops, x: Tensor) -> Tensor:
    return x
  # torch.nn.functional.group_norm: per (image, group) mean and variance, then the per-channel affine
  def group_norm(self: __torch__.Ops, x: Tensor, groups: int, weight: Tensor, bias: Tensor,
    eps: float) -> Tensor:
    return torch.group_norm(x, groups, weight, bias, eps, False)
  # the same followed by SiLU (out of place: silu_ on the norm's output took 10x longer in some processes than
  # in others, SD1.5 at 256x256: 0.07 or 0.87 s per image; torch.silu 0.18-0.24 s in every one)
  def group_norm_silu(self: __torch__.Ops, x: Tensor, groups: int, weight: Tensor, bias: Tensor,
    eps: float) -> Tensor:
    return torch.silu(torch.group_norm(x, groups, weight, bias, eps, False))
  def silu(self: __torch__.Ops, x: Tensor) -> Tensor:
    return torch.silu(x)
  # diffusers' GEGLU on a projection [.., 2 x inner]: the first half times the exact GELU of the second
  def geglu(self: __torch__.Ops, projected: Tensor) -> Tensor:
    halves = torch.chunk(projected, 2, -1)
    return torch.mul(halves[0], torch.gelu(halves[1]))
  # softmax(q k^T / sqrt(d)) v on [B, heads, N, d], without materializing the scores where libtorch has a
  # fused kernel for the device
  def attention(self: __torch__.Ops, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    return torch.scaled_dot_product_attention(q, k, v)
  # the same with an additive mask broadcast to the scores [B, heads, Nq, Nk]
  def attention_masked(self: __torch__.Ops, q: Tensor, k: Tensor, v: Tensor, mask: Tensor) -> Tensor:
    return torch.scaled_dot_product_attention(q, k, v, mask)
  # F.interpolate(x, scale_factor=2, mode="nearest") on [N, C, H, W]
  def upsample_nearest_2x(self: __torch__.Ops, x: Tensor) -> Tensor:
    return torch.upsample_nearest2d(x, [2 * torch.size(x, 2), 2 * torch.size(x, 3)])
  # a conv2d weight reordered once into oneDNN's blocked layout (an opaque mkldnn tensor), for the call below
  def pack_conv_weight(self: __torch__.Ops, weight: Tensor, stride: int, padding: int) -> Tensor:
    return torch.mkldnn_reorder_conv2d_weight(torch.to_mkldnn(weight), [padding, padding], [stride, stride],
      [1, 1], 1)
  # conv2d(x, weight, bias) on a dense x with the packed weight: oneDNN's kernel without the per-call reorder
  def convolution_packed(self: __torch__.Ops, x: Tensor, packed: Tensor, bias: Tensor, stride: int,
    padding: int) -> Tensor:
    return torch.mkldnn_convolution(x, packed, bias, [padding, padding], [stride, stride], [1, 1], 1)
  # a linear layer's weight [out, in] reordered once for oneDNN's matmul, for the calls below
  def pack_linear_weight(self: __torch__.Ops, weight: Tensor) -> Tensor:
    return ops.mkldnn._reorder_linear_weight(weight, None)
  # x W^T + b over x's last axis with a packed W: oneDNN's matmul (on this kind of CPU 2-2.5x the GFLOP/s of
  # the MKL sgemm libtorch's linear calls) without reordering W on every call
  def linear_packed(self: __torch__.Ops, x: Tensor, packed: Tensor, bias: Tensor) -> Tensor:
    return ops.mkldnn._linear_pointwise(x, packed, bias, "none", annotate(List[Optional[number]], []), "")
  def linear_packed_no_bias(self: __torch__.Ops, x: Tensor, packed: Tensor) -> Tensor:
    return ops.mkldnn._linear_pointwise(x, packed, None, "none", annotate(List[Optional[number]], []), "")
  # the same two layers computing in bfloat16 (dtype 15; this CPU kind has AVX512_BF16): the weight packed in
  # bfloat16, x and the bias cast on the way in, the result cast back to float32 (dtype 6)
  def pack_conv_weight_bf16(self: __torch__.Ops, weight: Tensor, stride: int, padding: int) -> Tensor:
    return torch.mkldnn_reorder_conv2d_weight(torch.to_mkldnn(torch.to(weight, 15)), [padding, padding],
      [stride, stride], [1, 1], 1)
  def convolution_packed_bf16(self: __torch__.Ops, x: Tensor, packed: Tensor, bias: Tensor, stride: int,
    padding: int) -> Tensor:
    y = torch.mkldnn_convolution(torch.to(x, 15), packed, torch.to(bias, 15), [padding, padding],
      [stride, stride], [1, 1], 1)
    return torch.to(y, 6)
  def pack_linear_weight_bf16(self: __torch__.Ops, weight: Tensor) -> Tensor:
    return ops.mkldnn._reorder_linear_weight(torch.to(weight, 15), None)
  def linear_packed_bf16(self: __torch__.Ops, x: Tensor, packed: Tensor, bias: Tensor) -> Tensor:
    y = ops.mkldnn._linear_pointwise(torch.to(x, 15), packed, torch.to(bias, 15), "none",
      annotate(List[Optional[number]], []), "")
    return torch.to(y, 6)
  def linear_packed_bf16_no_bias(self: __torch__.Ops, x: Tensor, packed: Tensor) -> Tensor:
    y = ops.mkldnn._linear_pointwise(torch.to(x, 15), packed, None, "none", annotate(List[Optional[number]], []), "")
    return torch.to(y, 6)
