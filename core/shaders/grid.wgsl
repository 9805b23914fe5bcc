// 1-D element index for dispatches larger than 65535 workgroups: the host
// spreads workgroups over x and y, and passes the row pitch in elements.
fn flat_index(g: vec3<u32>, pitch: u32) -> u32 { return g.y * pitch + g.x; }
