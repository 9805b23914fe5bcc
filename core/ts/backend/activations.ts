// Activation names and the integer ids the kernels switch on
// (core/shaders/activations.wgsl).
export const ACTIVATION_IDS = {
  identity: 0,
  tanh: 1,
  relu: 2,
  elu: 3,
  softplus: 4,
  hardtanh: 5,
  gelu: 6,
  swish: 7,
} as const;

export type ActName = keyof typeof ACTIVATION_IDS;
export const ACTIVATIONS = Object.keys(ACTIVATION_IDS) as ActName[];

export function parseActivation(name: string): ActName {
  const n = name === 'silu' ? 'swish' : name;
  if (!(n in ACTIVATION_IDS)) {
    throw new Error(`unknown activation '${name}': use one of ${ACTIVATIONS.join(', ')}`);
  }
  return n as ActName;
}
