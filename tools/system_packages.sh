#!/usr/bin/env bash
# Install the Debian packages some tests need, when they are missing: `make test` calls it with
# postgresql (the sweep test starts a throwaway server) and egl (MuJoCo draws the Hopper of notebook 08
# without a display through EGL), `make lab` with egl, `make test-browser` with chromium.
# As root on a Debian or Ubuntu machine it installs them with apt-get; elsewhere it says what to install
# and the tests that need them skip (CI sets TRPO_LITE_REQUIRE_EXTRAS=1 to make that a failure).
set -euo pipefail
missing=()
for package in "$@"; do
  case "$package" in
    postgresql) compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || missing+=(postgresql) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    egl) compgen -G "/usr/lib/*/libEGL_mesa.so.0" > /dev/null || missing+=(libegl1 libegl-mesa0) ;;
    *) echo "system_packages.sh: unknown package $package" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
else
  echo "note: ${missing[*]} not installed; the tests that need it will skip (Debian/Ubuntu: sudo apt-get install ${missing[*]})"
fi
