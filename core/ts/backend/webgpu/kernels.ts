// Assembles WGSL modules from core/shaders: shared snippets, a generated
// header of compile-time constants (layout, activation, flags, tile shape),
// and the kernel body. Constants are plain `const` declarations rather than
// pipeline overrides so one source compiles the same under Tint (Dawn,
// Chromium) and Naga (Deno), including workgroup sizes and array lengths.
import { WGSL } from '../../../shaders/wgsl.gen.js';

export type Binding = 'uniform' | 'read' | 'rw';

export interface KernelDef {
  /** Shader files (without .wgsl) concatenated after the header, in order. */
  files: string[];
  /** Binding types for @group(0) @binding(0..n-1); binding 0 is the uniform block. */
  bindings: Binding[];
  /** Bytes of the uniform Params struct. */
  paramBytes: number;
}

export const KERNELS = {
  matmul_naive: { files: ['activations', 'matmul_common', 'matmul_epilogue', 'matmul_naive'], bindings: ['uniform', 'read', 'read', 'rw', 'read', 'read', 'rw'], paramBytes: 80 },
  matmul_reg: { files: ['activations', 'matmul_common', 'matmul_epilogue', 'matmul_reg'], bindings: ['uniform', 'read', 'read', 'rw', 'read', 'read', 'rw'], paramBytes: 80 },
  matmul_tiled: { files: ['activations', 'matmul_common', 'matmul_epilogue', 'matmul_tiled'], bindings: ['uniform', 'read', 'read', 'rw', 'read', 'read', 'rw'], paramBytes: 80 },
  // The vec4 kernels bind A and B as vec4 arrays: matmul_vec4_common replaces matmul_common.
  matmul_vec4: { files: ['activations', 'matmul_vec4_common', 'matmul_epilogue', 'matmul_vec4'], bindings: ['uniform', 'read', 'read', 'rw', 'read', 'read', 'rw'], paramBytes: 80 },
  matmul_vec4_8x8: { files: ['activations', 'matmul_vec4_common', 'matmul_epilogue', 'matmul_vec4_8x8'], bindings: ['uniform', 'read', 'read', 'rw', 'read', 'read', 'rw'], paramBytes: 80 },
  vector: { files: ['grid', 'vector'], bindings: ['uniform', 'read', 'rw'], paramBytes: 32 },
  rdelta: { files: ['grid', 'activations', 'rdelta'], bindings: ['uniform', 'read', 'read', 'read', 'read', 'rw'], paramBytes: 64 },
  loss: { files: ['loss'], bindings: ['uniform', 'read', 'read', 'rw', 'rw', 'read'], paramBytes: 64 },
  reduce: { files: ['reduce'], bindings: ['uniform', 'read', 'read', 'rw', 'rw'], paramBytes: 48 },
  colsum: { files: ['colsum'], bindings: ['uniform', 'read', 'rw'], paramBytes: 32 },
  rng: { files: ['grid', 'rng'], bindings: ['uniform', 'rw'], paramBytes: 32 },
  toy: { files: ['toy'], bindings: ['uniform', 'read', 'read', 'rw', 'rw'], paramBytes: 16 },
  optim: { files: ['grid', 'optim'], bindings: ['uniform', 'rw', 'read', 'rw', 'rw'], paramBytes: 48 },
  // Conv2d as implicit GEMM: conv_common + a mode file (the GEMM view) + a
  // kernel file (the variant; conv-variants.ts). Bindings: the two operands
  // read, the written one, then the bias (dweight: bias gradient, written).
  conv_forward_naive: { files: ['conv_common', 'conv_forward', 'conv_gemm_naive'], bindings: ['uniform', 'read', 'read', 'rw', 'read'], paramBytes: 112 },
  conv_forward_reg: { files: ['conv_common', 'conv_forward', 'conv_gemm_reg'], bindings: ['uniform', 'read', 'read', 'rw', 'read'], paramBytes: 112 },
  conv_forward_tiled: { files: ['conv_common', 'conv_forward', 'conv_gemm_tiled'], bindings: ['uniform', 'read', 'read', 'rw', 'read'], paramBytes: 112 },
  conv_dinput_naive: { files: ['conv_common', 'conv_dinput', 'conv_gemm_naive'], bindings: ['uniform', 'read', 'read', 'rw'], paramBytes: 112 },
  conv_dinput_reg: { files: ['conv_common', 'conv_dinput', 'conv_gemm_reg'], bindings: ['uniform', 'read', 'read', 'rw'], paramBytes: 112 },
  conv_dinput_tiled: { files: ['conv_common', 'conv_dinput', 'conv_gemm_tiled'], bindings: ['uniform', 'read', 'read', 'rw'], paramBytes: 112 },
  conv_dweight_naive: { files: ['conv_common', 'conv_dweight', 'conv_gemm_naive'], bindings: ['uniform', 'read', 'read', 'rw', 'rw'], paramBytes: 112 },
  conv_dweight_reg: { files: ['conv_common', 'conv_dweight', 'conv_gemm_reg'], bindings: ['uniform', 'read', 'read', 'rw', 'rw'], paramBytes: 112 },
  conv_dweight_tiled: { files: ['conv_common', 'conv_dweight', 'conv_gemm_tiled'], bindings: ['uniform', 'read', 'read', 'rw', 'rw'], paramBytes: 112 },
  conv_dweight_sum: { files: ['grid', 'conv_common', 'conv_dweight_sum'], bindings: ['uniform', 'read', 'rw', 'rw'], paramBytes: 112 },
  pool: { files: ['grid', 'pool'], bindings: ['uniform', 'read', 'read', 'rw'], paramBytes: 64 },
  batchnorm: { files: ['batchnorm'], bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw'], paramBytes: 80 },
  act_map: { files: ['grid', 'activations', 'act_map'], bindings: ['uniform', 'read', 'read', 'rw'], paramBytes: 48 },
} satisfies Record<string, KernelDef>;

export type KernelName = keyof typeof KERNELS;
export type ConstValue = number | boolean;

export function headerFor(consts: Record<string, ConstValue>): string {
  return Object.keys(consts).sort().map((k) => {
    const v = consts[k];
    if (typeof v === 'boolean') return `const ${k}: bool = ${v};`;
    if (!Number.isInteger(v) || v < 0) throw new Error(`kernel constant ${k} must be a non-negative integer, got ${v}`);
    return `const ${k}: u32 = ${v}u;`;
  }).join('\n') + '\n';
}

export function kernelSource(name: KernelName, consts: Record<string, ConstValue>): string {
  const def: KernelDef = KERNELS[name];
  return headerFor(consts) + def.files.map((f) => {
    const src = WGSL[f];
    if (src === undefined) throw new Error(`shader '${f}.wgsl' missing from core/shaders (run \`npm run build\`)`);
    return src;
  }).join('\n');
}
