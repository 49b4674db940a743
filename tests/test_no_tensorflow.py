"""Nothing in the package imports TensorFlow."""
import pathlib
import re
import subprocess
import sys

PACKAGE = pathlib.Path(__file__).parents[1] / 'alphafold_jax'


def test_no_source_file_imports_tensorflow():
  pattern = re.compile(r'^\s*(import|from)\s+tensorflow\b', re.MULTILINE)
  offenders = [str(p) for p in PACKAGE.rglob('*.py') if pattern.search(p.read_text())]
  assert offenders == []


def test_importing_the_package_loads_no_tensorflow():
  modules = ['alphafold_jax.' + '.'.join(p.relative_to(PACKAGE).with_suffix('').parts)
             for p in PACKAGE.rglob('*.py') if p.name != '__init__.py']
  code = ('import importlib, sys\n'
          f'for m in {modules!r}:\n'
          '  importlib.import_module(m)\n'
          'print("tensorflow" in sys.modules)')
  out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                       check=True)
  assert out.stdout.strip().splitlines()[-1] == 'False'
