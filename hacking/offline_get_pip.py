"""Write the offline get-pip stand-in ansible-test looks for before it tries to download one.

ansible-test bootstraps pip in its sanity venvs with a get-pip.py from the internet, reading
~/.ansible/test/cache/get_pip_<version>.py first. Offline we put a stand-in there under the name of
every pip version this ansible-test pins: ensurepip, then pip install what ansible-test asked for.
Run it with the Python of the venv whose ansible-test will use it.
"""
import pathlib
import re

import ansible_test

STAND_IN = '''\
"""Offline stand-in for get-pip.py: ensurepip, then pip install what ansible-test asked for."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
'''


def pinned_pip_versions():
    source = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
    return set(re.findall(r"pip\s*=\s*'([0-9.]+)'", source)) | set(re.findall(r"'pip'\s*:\s*'([0-9.]+)'", source))


def main():
    cache = pathlib.Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in sorted(pinned_pip_versions()):
        (cache / ("get_pip_%s.py" % version.replace(".", "_"))).write_text(STAND_IN)


if __name__ == "__main__":
    main()
