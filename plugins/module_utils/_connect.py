# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""``connect(options) -> RegistryClient``: the one rule for which options reach which registry.

Used by every module, the digest lookup and both sides of registry_copy, so the three can no
longer disagree about where a password goes, which scheme a host gets, or what a timeout is.

The rule:

- The *home* registry is ``registry_url`` (a module falls back to E(REGISTRY_URL)).
- Secrets (``username``, ``password``, ``bearer_token``) go to the home registry only. With no
  home registry they go to the registry the task names (the lookup's terms, registry_copy's
  sides). A secret that only came from its environment variable (an AWX credential, a CI
  secret) belongs to E(REGISTRY_URL) when that is set, whatever ``registry_url`` the task names.
- The other registry-specific options (``auth_type``, ``validate_certs``, ``ca_path``,
  ``client_cert``, ``client_key``) follow the same rule as secrets, without the environment
  clause: they describe the home registry, and with no home registry every registry named.
- ``timeout``, ``retries``, ``max_requests_per_second`` (a cap per registry host) and ``auth_file``
  (keyed by host itself) apply to every registry.
- A per-side dict (registry_copy's ``src_auth``/``dest_auth``) wins over all of the above: the
  user wrote it for that side.
- A reference naming the home registry's host without a scheme gets the home registry's scheme.

Importable without Ansible; creating a client needs requests (transport.py says so cleanly).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.oci.registry.plugins.module_utils._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidReferenceError
from ansible_collections.oci.registry.plugins.module_utils._options import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    check_number,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    normalize_registry_url,
    parse_reference,
    split_registry_url,
)

SECRET_OPTIONS = (("username", "REGISTRY_USERNAME"), ("password", "REGISTRY_PASSWORD"),
                  ("bearer_token", "REGISTRY_TOKEN"))
REGISTRY_OPTIONS = ("auth_type", "validate_certs", "ca_path", "client_cert", "client_key")
GENERAL_OPTIONS = ("timeout", "retries", "auth_file", "max_requests_per_second")
CONNECTION_DEFAULTS = dict(auth_type="auto", validate_certs=True, timeout=DEFAULT_TIMEOUT, retries=DEFAULT_RETRIES)


def same_registry(url_a, url_b):
    """Same registry host (and port); the scheme does not make another registry."""
    try:
        return split_registry_url(url_a)[1] == split_registry_url(url_b)[1]
    except InvalidReferenceError:
        return False


def target_url(reference, text=None, home=None):
    """Registry URL for an ImageReference: the home registry's scheme for its host unless ``text`` has one."""
    if home and same_registry(home, reference.registry_url):
        if text is None or not text.strip().lower().startswith(("http://", "https://")):
            return normalize_registry_url(home)
    return reference.registry_url


def resolve_reference(text, home=None, default_tag=None):
    """(ImageReference, registry URL) for a reference text; names without a host are on ``home``."""
    reference = parse_reference(text, default_registry=home, default_tag=default_tag)
    return reference, target_url(reference, text, home)


def connection_params(options, target=None, side=None, environ=None):
    """RegistryClient keyword arguments for ``target`` (a registry URL; default the home registry).

    ``options`` holds the top-level connection options (missing keys count as not set),
    ``side`` a per-side dict that wins. Numbers are checked against their documented ranges.
    """
    environ = os.environ if environ is None else environ
    home = options.get("registry_url") or None
    target = target or home
    if not target:
        raise InvalidReferenceError("registry_url is required (or set the REGISTRY_URL environment variable)",
                                    action="validate registry_url")
    target = normalize_registry_url(target)
    for_target = home is None or same_registry(target, home)
    env_home = environ.get("REGISTRY_URL")
    params = {"registry_url": target}
    secrets = [(name, options.get(name), environ.get(env)) for name, env in SECRET_OPTIONS]
    # Ansible fills unset options from the environment, so only values can tell where they came from.
    # The credentials are judged as one set: when every one given equals its environment variable they
    # were injected for the registry in REGISTRY_URL, not for this one. A task that sets any of them
    # itself (a destination user named like the source user, with its own password) keeps them all.
    injected = bool(env_home) and any(value is not None for dummy, value, dummy2 in secrets) and all(
        value is None or value == env_value for dummy, value, env_value in secrets)
    withheld = injected and not same_registry(target, env_home)
    for name, value, dummy in secrets:
        params[name] = value if for_target and not withheld else None
    for name in REGISTRY_OPTIONS:
        params[name] = options.get(name) if for_target else None
    for name in GENERAL_OPTIONS:
        params[name] = options.get(name)
    params.update((key, value) for key, value in (side or {}).items() if value is not None and key in params)
    for name, value in CONNECTION_DEFAULTS.items():
        if params.get(name) is None:
            params[name] = value
    params["timeout"] = check_number("timeout", params["timeout"])
    params["retries"] = check_number("retries", params["retries"])
    params["max_requests_per_second"] = check_number("max_requests_per_second", params["max_requests_per_second"])
    params["validate_certs"] = params["validate_certs"] is not False
    return params


def connect(options, target=None, side=None, **client_options):
    """A RegistryClient for ``target`` built from ``options`` by the rule in this file's docstring."""
    params = connection_params(options, target=target, side=side)
    params.update(client_options)
    return RegistryClient(**params)


__all__ = ["CONNECTION_DEFAULTS", "connect", "connection_params", "resolve_reference", "same_registry",
           "target_url"]
