# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""Connection defaults and the ranges of numeric options, defined once.

Importable without Ansible and without requests: modules, the digest lookup, the client and
the blob writer all validate ``timeout``, ``retries``, ``chunk_size``, ``page_size`` and
``concurrency`` here, so a value means the same everywhere and a wrong one fails in one line
before any request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidOptionError

DEFAULT_TIMEOUT = 60
DEFAULT_RETRIES = 3

MIB = 1024 * 1024
# One chunk is buffered per transfer (times concurrency): the upper bound keeps a typo from
# holding gigabytes in memory. 128 MiB is far above what any registry or proxy asks for.
MAX_CHUNK_SIZE = 128 * MIB

# name: (minimum, maximum, unit for the message). The documented ranges of the options.
NUMERIC_RANGES = {
    "timeout": (1, 3600, "seconds"),
    "retries": (0, 100, "retries"),
    "chunk_size": (1, MAX_CHUNK_SIZE, "bytes"),
    "page_size": (1, 100000, "entries"),
    "concurrency": (1, 64, "parallel transfers"),
    "image_concurrency": (1, 64, "parallel images"),
    "max_requests_per_second": (1, 10000, "requests per second"),
}


def check_number(name, value, minimum=None, maximum=None):
    """``value`` as an int when it is within the range of option ``name``, else InvalidOptionError.

    ``None`` stays ``None`` (not set). Booleans are refused: YAML ``yes`` is not a number.
    """
    if value is None:
        return None
    default_min, default_max, unit = NUMERIC_RANGES.get(name, (None, None, ""))
    minimum = default_min if minimum is None else minimum
    maximum = default_max if maximum is None else maximum
    if isinstance(value, bool):
        number = None
    else:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is not None and isinstance(value, float) and number != value:
            number = None
    if number is None:
        raise InvalidOptionError("%s must be a whole number, got %r" % (name, value), action="validate %s" % name)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InvalidOptionError(
            ("%s is %d; it must be between %d and %d %s" % (name, number, minimum, maximum, unit)).strip(),
            action="validate %s" % name)
    return number


def check_numbers(options, names=None):
    """Validate every numeric option present in the dict ``options``; returns a copy with ints."""
    checked = dict(options)
    for name in names or NUMERIC_RANGES:
        if name in checked:
            checked[name] = check_number(name, checked[name])
    return checked


def chunk_size_for(requested, registry_minimum=None):
    """The chunk size to upload with: ``requested`` validated, raised to the registry's minimum.

    ``registry_minimum`` is the ``OCI-Chunk-Min-Length`` a registry announced; it wins over a
    smaller request (the registry would refuse smaller chunks) and over MAX_CHUNK_SIZE.
    ``requested`` None stays None (no chunking asked for).
    """
    size = check_number("chunk_size", requested)
    if size is None:
        return None
    try:
        minimum = int(registry_minimum) if registry_minimum is not None else 0
    except (TypeError, ValueError):
        minimum = 0
    return max(size, minimum)


__all__ = ["DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "MAX_CHUNK_SIZE", "NUMERIC_RANGES", "check_number",
           "check_numbers", "chunk_size_for"]
