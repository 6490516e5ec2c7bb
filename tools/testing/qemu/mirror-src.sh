#!/bin/sh
# Mirror a module source tree as symlinks: mirror-src.sh SRC DEST
#
# Kbuild writes objects next to the sources, so building the same sources a
# second time (another module name, another kernel) needs a tree of its own.
# Directories are real, files are links, links to deleted files are removed.
set -eu

src=$(cd "$1" && pwd)
dest=$2
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

find "$dest" -type l ! -exec test -e {} \; -exec rm -f {} +
(cd "$src" && find . -type d) | while read -r d; do
	mkdir -p "$dest/$d"
done
(cd "$src" && find . -type f \( -name '*.[ch]' -o -name Kbuild -o \
	-name Makefile -o -name Kconfig \) ! -name '*.mod.c') | while read -r f; do
	ln -sfn "$src/${f#./}" "$dest/$f"
done
