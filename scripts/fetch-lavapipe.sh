#!/usr/bin/env bash
# Fetches Mesa's lavapipe (CPU Vulkan driver) from bookworm-backports into .cache/vulkan/lavapipe/.
# Why: Debian 12's own lavapipe (Mesa 22) lacks features Dawn requires; backports' Mesa 25 works
# and is ~3x faster than SwiftShader. Nothing is installed system-wide: apt runs with private
# sources/lists/cache under .cache/ and the packages are unpacked with dpkg -x.
# Output: lvp_icd.json (absolute library_path) and ld_library_path (dirs holding the unpacked libs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.cache/vulkan/lavapipe
apt=$root/.cache/vulkan/apt

# Keep the cache out of git; a fresh repo gets the project's default ignores.
if [ ! -f "$root/.gitignore" ]; then
  printf '%s\n' node_modules/ .cache/ runs/ build/ > "$root/.gitignore"
elif ! grep -qxF .cache/ "$root/.gitignore"; then
  [ -z "$(tail -c1 "$root/.gitignore")" ] || echo >> "$root/.gitignore"
  echo .cache/ >> "$root/.gitignore"
fi

# Working = ICD json points at an existing .so whose deps all resolve with the private libs.
working() {
  local lib
  [ -f "$dest/lvp_icd.json" ] && [ -f "$dest/ld_library_path" ] || return 1
  lib=$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "$dest/lvp_icd.json")
  [ -f "$lib" ] || return 1
  ! LD_LIBRARY_PATH=$(cat "$dest/ld_library_path") ldd -r "$lib" 2>&1 | grep -qE 'not found|undefined symbol'
}
if working; then echo "lavapipe: already present ($dest/lvp_icd.json)"; exit 0; fi

. /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "lavapipe: only Debian 12 (bookworm) is supported, this is ${PRETTY_NAME:-unknown}" >&2
  exit 1
fi

rm -rf "$apt" "$dest.tmp"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dest.tmp"
key=/usr/share/keyrings/debian-archive-keyring.gpg
# bookworm main is listed too so the resolver can pull any dependency missing from this machine.
cat > "$apt/sources.list" <<SRC
deb [signed-by=$key] http://deb.debian.org/debian bookworm main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-backports main
SRC
opts=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=$(id -un)")

echo "lavapipe: fetching Mesa from bookworm-backports (private apt state in $apt)"
apt-get "${opts[@]}" update > "$apt/update.log" 2>&1 || { cat "$apt/update.log" >&2; exit 1; }
# Simulating the install against the real dpkg status yields exactly what this machine lacks
# (e.g. libdrm >= 2.4.121). libc6 is never taken: a private libc cannot work with the system ld.so.
mapfile -t pkgs < <(apt-get "${opts[@]}" -s install mesa-vulkan-drivers/bookworm-backports |
  sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\1=\3/p' | grep -v '^libc6[:=]' || true)
printf '%s\n' "${pkgs[@]}" | grep -q '^mesa-vulkan-drivers' || pkgs+=(mesa-vulkan-drivers/bookworm-backports)
(cd "$apt/debs" && apt-get "${opts[@]}" download "${pkgs[@]}" > "$apt/download.log" 2>&1) ||
  { cat "$apt/download.log" >&2; exit 1; }

for deb in "$apt"/debs/*.deb; do
  dpkg-deb -x "$deb" "$dest.tmp/root"
  echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(stat -c %s "$deb")" >> "$dest.tmp/packages.txt"
done
# Only lavapipe is wanted; the GPU drivers, layers and docs are ~40 MB of dead weight.
find "$dest.tmp/root" \( -name 'libvulkan_*.so' ! -name libvulkan_lvp.so -o -name 'libVkLayer_*' \) -delete
rm -rf "$dest.tmp/root/usr/share/doc" "$dest.tmp/root/usr/bin"

rm -rf "$dest" && mv "$dest.tmp" "$dest"
lib=$(find "$dest/root" -name libvulkan_lvp.so | head -n1)
[ -n "$lib" ] || { echo "lavapipe: libvulkan_lvp.so missing from the packages" >&2; exit 1; }
sed "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$lib\"#" \
  "$(find "$dest/root" -name 'lvp_icd*.json' | head -n1)" > "$dest/lvp_icd.json"
find "$dest/root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd: > "$dest/ld_library_path"

if ! working; then
  echo "lavapipe: unpacked driver has unresolved dependencies:" >&2
  LD_LIBRARY_PATH=$(cat "$dest/ld_library_path") ldd -r "$lib" 2>&1 | grep -E 'not found|undefined symbol' >&2
  exit 1
fi
rm -rf "$apt"
echo "lavapipe: ready ($(awk '{printf "%s%s %s", s, $1, $2; s=", "}' "$dest/packages.txt"))"
