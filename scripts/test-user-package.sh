#!/usr/bin/env bash
# Builds Tests/UserPackage the way a user's package is built: a copy outside the repository's
# own packages, depending on Packages/OpenCoroutine by path, then checks that
#   1. the hook library comes before libc in the executable's DT_NEEDED (so it interposes);
#   2. the program's plain blocking code ran concurrently: the exact lines it must print;
#   3. the facade does not export the runtime's machinery: Tests/UserPackage/FacadeSurface.swift,
#      which names it through the facade alone, fails to compile with every name refused.
#
# The copy lives in <repo>/.build-user-package/ (kept between runs for incremental builds).
# The run is limited to 60 s.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="$repo_root/.build-user-package"
package="$scratch/UserPackage"

mkdir -p "$package"
rm -rf "$package/Package.swift" "$package/Sources"
cp -R "$repo_root/Tests/UserPackage/Package.swift" "$repo_root/Tests/UserPackage/Sources" "$package/"
# The one edit a user would not make: the relative path points into the repository.
sed -i "s|path: \"../../Packages/OpenCoroutine\"|path: \"$repo_root/Packages/OpenCoroutine\"|" "$package/Package.swift"

echo "Building $package"
swift build --package-path "$package"
app="$(swift build --package-path "$package" --show-bin-path)/UserApp"

needed="$(readelf -d "$app" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
hook_line="$(grep -n '^libopen_coroutine_hook\.so$' <<<"$needed" | cut -d: -f1)"
libc_line="$(grep -n '^libc\.so\.6$' <<<"$needed" | cut -d: -f1)"
if [[ -z "$hook_line" || -z "$libc_line" || "$hook_line" -ge "$libc_line" ]]; then
    echo "FAIL: the hook library does not precede libc in DT_NEEDED:" >&2
    echo "$needed" >&2
    exit 1
fi
echo "ok: DT_NEEDED has libopen_coroutine_hook.so (entry $hook_line) before libc.so.6 (entry $libc_line)"

expected=$'sleepers=200 concurrent=true\nechoed=50 concurrent=true\nstopped'
actual="$(timeout 60 "$app")"
if [[ "$actual" != "$expected" ]]; then
    echo "FAIL: UserApp printed" >&2
    echo "$actual" >&2
    echo "instead of" >&2
    echo "$expected" >&2
    exit 1
fi
echo "ok: UserApp's blocking code ran concurrently"

# The surface probe is added last, to the copy only: the next run starts from a fresh copy.
probe_names="$(sed -n 's/^_ = \([A-Za-z]*\).*/\1/p' "$repo_root/Tests/UserPackage/FacadeSurface.swift")"
mkdir -p "$package/Sources/FacadeSurface"
cp "$repo_root/Tests/UserPackage/FacadeSurface.swift" "$package/Sources/FacadeSurface/main.swift"
echo 'package.targets.append(.executableTarget(name: "FacadeSurface", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")]))' \
    >>"$package/Package.swift"
if probe_output="$(swift build --package-path "$package" --target FacadeSurface 2>&1)"; then
    echo "FAIL: FacadeSurface compiled: the facade exports the runtime's machinery" >&2
    exit 1
fi
for name in $probe_names; do
    if ! grep -q "cannot find '$name' in scope" <<<"$probe_output"; then
        echo "FAIL: FacadeSurface did not fail on $name:" >&2
        echo "$probe_output" >&2
        exit 1
    fi
done
echo "ok: the facade exports none of" $probe_names
