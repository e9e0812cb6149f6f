# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.

"""Glue between AnsibleModule and the registry client.

The client modules never import Ansible; this file is the only place where the
two meet, so every module gets the same options, the same client construction
and the same failure format.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
    from ansible_collections.oci.registry.plugins.module_utils._connect import connect
except ImportError:
    RegistryClient = connect = None
    CLIENT_IMPORT_ERROR = traceback.format_exc()
else:
    CLIENT_IMPORT_ERROR = None

from ansible_collections.oci.registry.plugins.module_utils._auth import AUTH_TYPES
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    InvalidReferenceError,
    RegistryError,
)
from ansible_collections.oci.registry.plugins.module_utils._options import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import userinfo_secrets
from ansible_collections.oci.registry.plugins.module_utils._service import (
    Outcome,
    ServiceError,
    compile_pattern as _compile_pattern,
)

# Which option carries which secret: used to build both the top-level spec and
# the src_auth/dest_auth suboptions of registry_copy from one definition.
_CONNECTION_OPTIONS = (
    # name, spec without fallback, environment variable
    ('registry_url', dict(type='str', required=True), 'REGISTRY_URL'),
    ('username', dict(type='str'), 'REGISTRY_USERNAME'),
    ('password', dict(type='str', no_log=True), 'REGISTRY_PASSWORD'),
    ('bearer_token', dict(type='str', no_log=True), 'REGISTRY_TOKEN'),
    ('auth_type', dict(type='str', default='auto', choices=list(AUTH_TYPES)), None),
    ('auth_file', dict(type='path'), 'REGISTRY_AUTH_FILE'),
    ('validate_certs', dict(type='bool', default=True), 'REGISTRY_VALIDATE_CERTS'),
    ('ca_path', dict(type='path'), 'REGISTRY_CA_PATH'),
    ('client_cert', dict(type='path'), None),
    ('client_key', dict(type='path'), None),
    ('timeout', dict(type='int', default=DEFAULT_TIMEOUT), None),
    ('retries', dict(type='int', default=DEFAULT_RETRIES), None),
    ('max_requests_per_second', dict(type='int'), None),
)


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


def client_from_params(module, params=None, registry_url=None, side=None, **client_options):
    """Create a RegistryClient with connect.connect (the one connection rule).

    ``params`` defaults to ``module.params`` (the top-level connection options);
    ``registry_url`` is the registry to talk to when it is not ``params['registry_url']``
    (a side of registry_copy), ``side`` that side's own options (src_auth/dest_auth).
    The request trace is recorded only at -vvv and above, because it costs memory for
    every request of a large copy. ``client_options`` go to the client (``pool_size``).
    """
    check_requirements(module)
    if params is None:
        params = module.params
    client = connect(params, target=registry_url, side=side, trace=_verbosity(module) >= 3, **client_options)
    _MODULE_CLIENTS.setdefault(module, []).append(client)
    return client


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


def result_of(module, outcome):
    """The result dict of a service's Outcome: diff (with --diff) and warnings go where Ansible wants them."""
    if not isinstance(outcome, Outcome):
        return dict(outcome or {})
    result = dict(outcome.result)
    diff = outcome.diff()
    if diff is not None and module._diff:
        result['diff'] = diff
    for warning in outcome.warnings:
        module.warn(warning)
    return result


def _strings_in(value, found):
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _strings_in(item, found)
    return found


def mask_userinfo(module):
    """Hide ``user:password@`` written into any URL or reference option from everything the module returns.

    The services refuse such options, but Ansible echoes the arguments (``invocation``) in the result of
    a failure; no_log values are masked there and everywhere else in the result.
    """
    for text in _strings_in(module.params, []):
        for secret in userinfo_secrets(text):
            module.no_log_values.add(secret)


def run_module(module, fn):
    """Run ``fn()`` and exit with its result: a dict, or the Outcome of a service.

    ServiceError becomes its one-line msg with its result keys; RegistryError
    (InvalidReferenceError included) a one-line msg with ``status``/``code``;
    anything else a one-line msg with the traceback in ``exception`` (shown by
    Ansible at -vvv), never in ``msg``. At -vvv the client request trace is
    added as ``trace``.
    """
    mask_userinfo(module)
    check_requirements(module)
    try:
        result = result_of(module, fn())
    except ServiceError as err:
        fail(module, ' '.join(err.msg.split()), **err.result)
    except (RegistryError, InvalidReferenceError) as err:
        fail_registry_error(module, err)
    except (OSError, IOError) as err:
        fail(module, error_message(err), exception=traceback.format_exc())
    except Exception as err:  # pylint: disable=broad-exception-caught
        fail(module, 'Unexpected %s: %s' % (err.__class__.__name__, error_message(err)),
             exception=traceback.format_exc())
    result = _with_trace(module, result)
    result.setdefault('changed', False)
    _close_clients(module)
    module.exit_json(**result)


def compile_pattern(module, pattern):
    try:
        return _compile_pattern(pattern)
    except ServiceError as err:
        fail(module, err.msg)
