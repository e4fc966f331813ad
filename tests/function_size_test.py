#!/usr/bin/env python3
"""Google style, as STYLE.md asks: no function over 80 lines, no source file
over 600 lines, in the project's own code (tests excluded).

A function is a definition whose body opens with '{' at the end of its
signature and closes with '}' at the signature's indentation (what
clang-format writes); its length counts from the signature's first line to
the closing brace. Lambdas and class bodies are not functions here.

  tests/function_size_test.py [REPO_ROOT]   exit 1 naming each offender
"""
import os
import re
import subprocess
import sys

MAX_FUNCTION = 80
MAX_FILE = 600
NOT_A_FUNCTION = re.compile(
    r'^\s*(if|for|while|switch|else|do|try|catch|namespace|class|struct|'
    r'union|enum|extern|return)\b|=\s*$|=\s*\{$|\]\s*\(|\[[^\]]*\]\s*\{$|'
    r'^\s*(public|private|protected):')


def functions(lines):
    """Yields (first line index, last line index, name) of each function."""
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if (stripped.endswith('{') and not stripped.startswith(('//', '#'))
                and not NOT_A_FUNCTION.search(line)):
            # The signature: back to the line after the previous statement.
            start = i
            while start > 0:
                prev = lines[start - 1].strip()
                if (not prev or prev.endswith((';', '{', '}', ':')) or
                        prev.startswith(('//', '#', 'template'))):
                    break
                start -= 1
            signature = ' '.join(l.strip() for l in lines[start:i + 1])
            indent = len(line) - len(line.lstrip())
            head_indent = len(lines[start]) - len(lines[start].lstrip())
            match = re.search(r'([\w:~<>=!+\-*/\[\]]+)\s*\(', signature)
            if match and ')' in signature and '(' in signature:
                close = '%s}' % (' ' * head_indent)
                j = i + 1
                while j < len(lines) and not (
                        lines[j].startswith(close) and
                        (len(lines[j]) == len(close) or
                         lines[j][len(close)] in ' ;/')):
                    j += 1
                if j < len(lines) and indent == head_indent or j < len(lines):
                    yield start, j, match.group(1)
                    i = j + 1
                    continue
        i += 1


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..')
    os.chdir(root)
    files = subprocess.run(['git', 'ls-files', '*.cc', '*.h'],
                           capture_output=True, text=True,
                           check=True).stdout.split()
    problems = []
    for path in files:
        if path.startswith('tests/'):
            continue
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = f.read().split('\n')
        if len(lines) - 1 > MAX_FILE:
            problems.append('%s: %d lines (at most %d per file)' %
                            (path, len(lines) - 1, MAX_FILE))
        for start, end, name in functions(lines):
            length = end - start + 1
            if length > MAX_FUNCTION:
                problems.append('%s:%d: %s is %d lines (at most %d)' %
                                (path, start + 1, name, length, MAX_FUNCTION))
    for p in problems:
        print(p)
    if problems:
        print('function_size: %d over the limits' % len(problems))
        return 1
    print('function_size: every function and file within the limits')
    return 0


if __name__ == '__main__':
    sys.exit(main())
