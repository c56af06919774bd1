"""Counts the words of a file: a project script mlc ships to the cluster."""
import sys

from report import line

words = open(sys.argv[1]).read().split()
print(line(len(words)))
