#!/usr/bin/env bash
# Print the tree under ROOT, one line per entry, sorted: path, type, mode,
# owner and group ids, then the size and SHA-256 of files and the target
# of symlinks. Two roots with the same output are the same byte for byte
# (modification times and directory sizes aside).
set -euo pipefail
cd "$1"
{
    find . ! -type f -printf '%p %y %m %U:%G %l\n'
    find . -type f -printf '%p %y %m %U:%G %s ' -exec sh -c 'sha256sum < "$1" | cut -d" " -f1' sh {} \;
} | LC_ALL=C sort
