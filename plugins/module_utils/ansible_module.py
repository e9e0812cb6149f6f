# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Glue between AnsibleModule and the registry client.

The client modules never import Ansible; this file is the only place where the
two meet, so every module gets the same options, the same client construction
and the same failure format.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import traceback
import weakref

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

# requests is the only third-party requirement. The import is guarded so that
# a missing library ends in a clean fail_json (missing_required_lib) instead of
# an ImportError traceback, and so that ansible-test's import sanity test (which
# runs without requests) passes.
try:
    import requests  # noqa: F401, pylint: disable=unused-import
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

try:
    from ansible_collections.oci.registry.plugins.module_utils.client import RegistryClient
    from ansible_collections.oci.registry.plugins.module_utils.reference import normalize_registry_url
except ImportError:
    RegistryClient = None
    CLIENT_IMPORT_ERROR = traceback.format_exc()
else:
    CLIENT_IMPORT_ERROR = None

from ansible_collections.oci.registry.plugins.module_utils.errors import (
    InvalidReferenceError,
    RegistryError,
)


AUTH_TYPES = ['auto', 'basic', 'token', 'anonymous', 'none']

# Which option carries which secret: used to build both the top-level spec and
# the src_auth/dest_auth suboptions of registry_copy from one definition.
_CONNECTION_OPTIONS = (
    # name, spec without fallback, environment variable
    ('registry_url', dict(type='str', required=True), 'REGISTRY_URL'),
    ('username', dict(type='str'), 'REGISTRY_USERNAME'),
    ('password', dict(type='str', no_log=True), 'REGISTRY_PASSWORD'),
    ('bearer_token', dict(type='str', no_log=True), 'REGISTRY_TOKEN'),
    ('auth_type', dict(type='str', default='auto', choices=AUTH_TYPES), None),
    ('auth_file', dict(type='path'), 'REGISTRY_AUTH_FILE'),
    ('validate_certs', dict(type='bool', default=True), 'REGISTRY_VALIDATE_CERTS'),
    ('ca_path', dict(type='path'), 'REGISTRY_CA_PATH'),
    ('client_cert', dict(type='path'), None),
    ('client_key', dict(type='path'), None),
    ('timeout', dict(type='int', default=60), None),
    ('retries', dict(type='int', default=3), None),
)

CONNECTION_OPTION_NAMES = tuple(name for name, dummy, dummy2 in _CONNECTION_OPTIONS)


def connection_argument_spec():
    """Argument spec of the shared connection options (doc fragment oci.registry.connection).

    Environment fallbacks let AWX credentials injected as environment variables
    work without any task-level option.
    """
    spec = {}
    for name, option, env in _CONNECTION_OPTIONS:
        option = dict(option)
        if env:
            option['fallback'] = (env_fallback, [env])
        spec[name] = option
    return spec


def auth_suboptions():
    """Connection options without registry_url and without environment fallbacks.

    For dict options such as registry_copy's src_auth/dest_auth: the registry
    comes from the image reference there, and an environment variable cannot
    tell the source from the destination registry.
    """
    spec = {}
    for name, option, dummy in _CONNECTION_OPTIONS:
        if name == 'registry_url':
            continue
        spec[name] = dict(option)
    return spec


# Clients created for a module, so that run_module() can attach their request
# traces to the result and close them, whoever created them.
_MODULE_CLIENTS = weakref.WeakKeyDictionary()


def _verbosity(module):
    return getattr(module, '_verbosity', 0) or 0


def check_requirements(module):
    """Fail cleanly when requests (or the client) cannot be imported."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    if RegistryClient is None:
        module.fail_json(
            msg='Cannot import the oci.registry client: %s' % CLIENT_IMPORT_ERROR.strip().splitlines()[-1],
            exception=CLIENT_IMPORT_ERROR)


def client_from_params(module, params=None, registry_url=None):
    """Create a RegistryClient from the connection options.

    ``params`` defaults to ``module.params`` (pass a src_auth/dest_auth dict
    for registry_copy); ``registry_url`` overrides the one in ``params``.
    The request trace is recorded only at -vvv and above, because it costs
    memory for every request of a large copy.
    """
    check_requirements(module)
    if params is None:
        params = module.params
    url = registry_url or params.get('registry_url')
    if not url:
        fail(module, 'registry_url is required (or set the REGISTRY_URL environment variable)')
    secrets = _credentials_for(url, params)
    client = RegistryClient(
        url,
        username=secrets['username'],
        password=secrets['password'],
        bearer_token=secrets['bearer_token'],
        auth_type=params.get('auth_type') or 'auto',
        validate_certs=params.get('validate_certs', True) is not False,
        ca_path=params.get('ca_path'),
        client_cert=params.get('client_cert'),
        client_key=params.get('client_key'),
        timeout=params.get('timeout') or 60,
        retries=params.get('retries') if params.get('retries') is not None else 3,
        auth_file=params.get('auth_file'),
        trace=_verbosity(module) >= 3,
    )
    _MODULE_CLIENTS.setdefault(module, []).append(client)
    return client


_SECRET_ENV = (('username', 'REGISTRY_USERNAME'), ('password', 'REGISTRY_PASSWORD'),
               ('bearer_token', 'REGISTRY_TOKEN'))


def _same_registry(url_a, url_b):
    try:
        return normalize_registry_url(url_a) == normalize_registry_url(url_b)
    except (ValueError, RegistryError):
        return False


def _credentials_for(url, params):
    """The credentials to send to ``url``.

    Credentials injected as REGISTRY_* environment variables (an AWX credential, a CI secret)
    belong to the registry in REGISTRY_URL. A task that names another registry must not send
    them there, so a value that only came from the environment is dropped for other hosts.
    A value the task sets itself is always used.
    """
    env_url = os.environ.get('REGISTRY_URL')
    scoped = env_url and not _same_registry(url, env_url)
    secrets = {}
    for option, env in _SECRET_ENV:
        value = params.get(option)
        if scoped and value is not None and value == os.environ.get(env):
            value = None
        secrets[option] = value
    return secrets


def _trace(module):
    records = []
    for client in _MODULE_CLIENTS.get(module, []):
        records.extend(getattr(client, 'trace_records', None) or [])
    return records


def _close_clients(module):
    for client in _MODULE_CLIENTS.pop(module, []):
        try:
            client.close()
        except Exception:  # pylint: disable=broad-exception-caught
            # Closing is best effort; the result is already decided.
            pass


def _with_trace(module, result):
    if _verbosity(module) >= 3:
        result['trace'] = _trace(module)
    return result


def fail(module, msg, **kwargs):
    """fail_json with the request trace at -vvv, and the clients closed."""
    kwargs = _with_trace(module, kwargs)
    _close_clients(module)
    module.fail_json(msg=msg, **kwargs)


def error_result(err):
    """Result keys describing a RegistryError (no secrets: the error never holds any)."""
    result = {}
    for key in ('status', 'code', 'errors', 'hint'):
        value = getattr(err, key, None)
        if value is not None:
            result[key] = value
    missing = getattr(err, 'missing_blobs', None)
    if missing:
        result['missing_blobs'] = list(missing)
    return result


def error_message(err):
    """One line, whatever the exception carries."""
    text = to_native(err).strip() or err.__class__.__name__
    return ' '.join(text.split())


def fail_registry_error(module, err, prefix=None):
    msg = error_message(err)
    if prefix:
        msg = '%s: %s' % (prefix, msg)
    fail(module, msg, **error_result(err))


def run_module(module, fn):
    """Run ``fn()`` and exit with its result dict.

    RegistryError (InvalidReferenceError included) becomes a one-line msg with
    ``status``/``code``; anything else becomes a one-line msg with the
    traceback in ``exception`` (shown by Ansible at -vvv), never in ``msg``.
    At -vvv the client request trace is added as ``trace``.
    """
    check_requirements(module)
    try:
        result = fn()
    except (RegistryError, InvalidReferenceError) as err:
        fail_registry_error(module, err)
    except (OSError, IOError) as err:
        fail(module, error_message(err), exception=traceback.format_exc())
    except Exception as err:  # pylint: disable=broad-exception-caught
        fail(module, 'Unexpected %s: %s' % (err.__class__.__name__, error_message(err)),
             exception=traceback.format_exc())
    result = _with_trace(module, dict(result or {}))
    result.setdefault('changed', False)
    _close_clients(module)
    module.exit_json(**result)


def compile_pattern(module, pattern):
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        fail(module, 'pattern %r is not a valid regular expression: %s' % (pattern, err))


def paginate(fetch_page, names_of, page_size, last, limit, regex):
    """Collect names over pages; return (names, next_last).

    ``next_last`` is the last name examined when ``limit`` stopped us and more
    names may follow, so that passing it as ``last`` continues exactly there.
    """
    names = []
    seen_last = set()
    while True:
        page = fetch_page(page_size, last)
        page_names = names_of(page)
        if last is not None and last in page_names:
            # The registry ignored `last` (distribution 2.x does for tags) and sent the whole list
            # again: skip up to and including it, which works as long as its order is stable.
            page_names = page_names[page_names.index(last) + 1:]
        for index, name in enumerate(page_names):
            if limit is not None and len(names) >= limit:
                # stopped before this name: continue after the previous one
                return names, last if index == 0 else page_names[index - 1]
            if regex is None or regex.search(name):
                names.append(name)
            if limit is not None and len(names) >= limit:
                more = index + 1 < len(page_names) or page.next_last is not None
                return names, name if more else None
        next_last = page.next_last
        if not next_last or not page_names or next_last in seen_last or next_last == last:
            # last page, or a registry that repeats itself: stop instead of looping
            return names, None
        seen_last.add(next_last)
        last = next_last


class RegistryModuleRunner(object):
    """Object form of run_module() for modules that prefer methods."""

    def __init__(self, module):
        self.module = module

    def client(self, params=None, registry_url=None):
        return client_from_params(self.module, params=params, registry_url=registry_url)

    def fail(self, msg, **kwargs):
        fail(self.module, msg, **kwargs)

    def run(self, fn):
        run_module(self.module, fn)
