#!/usr/bin/env bash
# Builds Tests/UserPackage the way a user's package is built: a copy outside the repository's
# own packages, depending on Packages/OpenCoroutine by path, then checks that
#   1. the hook library comes before libc in the executable's DT_NEEDED (so it interposes);
#   2. the program's plain blocking code ran concurrently: the exact lines it must print;
#   3. the facade's surface: Tests/UserPackage/FacadeSurface.swift, which names the runtime's
#      machinery through the facade alone and calls every blocking call from async code, fails
#      to compile with exactly those names and those calls refused.
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
surface="$repo_root/Tests/UserPackage/FacadeSurface.swift"
probe_names="$(sed -n 's/^_ = \([A-Za-z]*\).*/\1/p' "$surface")"
blocking_lines="$(grep -n '// blocks$' "$surface" | cut -d: -f1)"
mkdir -p "$package/Sources/FacadeSurface"
cp "$surface" "$package/Sources/FacadeSurface/main.swift"
echo 'package.targets.append(.executableTarget(name: "FacadeSurface", dependencies: [.product(name: "OpenCoroutine", package: "OpenCoroutine")]))' \
    >>"$package/Package.swift"
if probe_output="$(swift build --package-path "$package" --target FacadeSurface 2>&1)"; then
    echo "FAIL: FacadeSurface compiled: the facade exports the runtime's machinery, or a blocking call is not noasync" >&2
    exit 1
fi
refused() {
    echo "FAIL: FacadeSurface did not fail on $1:" >&2
    echo "$probe_output" >&2
    exit 1
}
for name in $probe_names; do
    grep -q "main.swift:[0-9]*:[0-9]*: error: cannot find '$name' in scope" <<<"$probe_output" || refused "$name"
done
for line in $blocking_lines; do
    grep -q "main.swift:$line:[0-9]*: error: .* is unavailable from asynchronous contexts" <<<"$probe_output" \
        || refused "line $line, a blocking call"
done
# Each error is printed once per compiler job that meets it: count the distinct ones.
errors="$(grep -o 'main.swift:[0-9]*:[0-9]*: error:.*' <<<"$probe_output" | sort -u | wc -l)"
expected_errors=$(($(wc -w <<<"$probe_names") + $(wc -w <<<"$blocking_lines")))
if [[ "$errors" -ne "$expected_errors" ]]; then
    echo "FAIL: FacadeSurface has $errors errors, not the $expected_errors expected:" >&2
    echo "$probe_output" >&2
    exit 1
fi
echo "ok: the facade exports none of" $probe_names "and its $(wc -w <<<"$blocking_lines") blocking calls are noasync"
