// esbuild's binary loader turns `import x from '….wasm'` into the file's bytes.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
