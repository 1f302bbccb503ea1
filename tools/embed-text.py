#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# embed-text.py IN OUT SYMBOL: a C file defining `const char SYMBOL[]` with
# the text of IN (NUL-free UTF-8), for data kept as files in the tree, such
# as runner/seccomp-default.json. Used by meson at build time.
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
if b'\0' in data:
    sys.exit('embed-text.py: %s contains a NUL byte' % src)
lines = ['/* generated from %s by tools/embed-text.py: do not edit */' % src.split('/')[-1],
         'extern const char %s[];' % sym, 'const char %s[] =' % sym]
for chunk in data.splitlines(keepends=True):
    esc = ''.join(c if 32 <= ord(c) < 127 and c not in '"\\?' else '\\%03o' % ord(c)
                  for c in chunk.decode('latin-1'))
    lines.append('\t"%s"' % esc)
lines[-1] += ';'
if len(lines) == 3:
    lines.append('\t"";')
open(out, 'w').write('\n'.join(lines) + '\n')
