#!/usr/bin/env bash
# Builds Tests/UserPackage the way a user's package is built: a copy outside the repository's
# own packages, depending on Packages/OpenCoroutine by path, then checks that
#   1. the hook library comes before libc in the executable's DT_NEEDED (so it interposes);
#   2. the program's plain blocking code ran concurrently: the exact lines it must print.
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
