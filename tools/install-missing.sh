#!/bin/sh
# Install the system tools that are missing, and only those.
#
# usage: tools/install-missing.sh COMMAND:DEBIAN_PACKAGE ...
#
# A tool counts as present when COMMAND is on PATH; for "R:susieR" (R with a package)
# when Rscript loads that package. Missing ones are installed with apt-get when this
# runs as root (or with sudo when it works without a password); otherwise the script
# says how to get them without root (conda) and exits 0: the tests that need a missing
# tool are skipped. APT_GET overrides the installer (tests point it at a stub).
set -u
apt=${APT_GET:-apt-get}
missing=""
for pair in "$@"; do
  cmd=${pair%%:*}
  pkg=${pair##*:}
  case "$cmd" in
    R=*)
      rpkg=${cmd#R=}
      if command -v Rscript >/dev/null 2>&1 && Rscript -e "library($rpkg)" >/dev/null 2>&1; then
        continue
      fi
      ;;
    *)
      if command -v "$cmd" >/dev/null 2>&1; then
        continue
      fi
      ;;
  esac
  missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run="sudo -n"
else
  echo "not installing (no root):$missing"
  echo "  put them on PATH another way, e.g. with conda:"
  echo "    conda install -c conda-forge -c bioconda bedtools bcftools htslib r-susier"
  echo "  (chromium: any Chromium or Chrome on PATH). Tests that need a missing tool are skipped."
  exit 0
fi
echo "installing Debian packages:$missing"
$run "$apt" update -qq && DEBIAN_FRONTEND=noninteractive $run "$apt" install -y -qq --no-install-recommends $missing
