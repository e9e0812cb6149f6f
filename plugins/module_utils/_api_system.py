# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to oci.registry: no compatibility promise. Other collections and playbooks must not
# import this file; names, signatures and behaviour change without notice. The internal contract
# is docs/dev/client-api.md.
"""System API group: ``GET /v2/`` (API version, auth challenge, whether the credentials work, rate limit)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.oci.registry.plugins.module_utils._challenge import parse_challenges
from ansible_collections.oci.registry.plugins.module_utils._endpoint import ApiGroup
from ansible_collections.oci.registry.plugins.module_utils._errors import AuthenticationError, CredentialsWithheldError
from ansible_collections.oci.registry.plugins.module_utils._rate_limit import parse_pull_limit


def parse_rate_limit(headers):
    """Docker Hub's pull limit headers as ``{limit, remaining, source}`` (registry_info), or None when absent."""
    state = parse_pull_limit(headers)
    if state is None:
        return None
    return {"limit": state["limit"], "remaining": state["remaining"], "source": state["source"]}


class SystemApi(ApiGroup):
    def ping(self):
        """GET /v2/: API version, auth challenge, whether our credentials work, rate limit headers.

        Credentials that do not authenticate (wrong password, withheld from the token service)
        are a result, not a failure: ``authenticated`` is False and ``auth_error`` says why.
        """
        endpoint = self.endpoint
        auth = endpoint.auth
        first = endpoint.request("GET", "/v2/", expected=(200, 401), authenticate=False, trace_name="ping",
                                 action="ping")
        first.close()
        status = first.status_code
        api_version = first.headers.get("Docker-Distribution-API-Version")
        challenges = parse_challenges(first.headers.get("WWW-Authenticate", ""))
        auth_info = None
        authenticated = False
        auth_error = None
        rate_limit = parse_rate_limit(first.headers)
        if status == 401:
            challenge = auth.learn_challenge(first.headers.get("WWW-Authenticate", ""))
            if challenge is not None:
                auth_info = challenge.to_dict()
            if auth.auth_type != "none" and (auth.has_credentials or (
                    challenge is not None and challenge.scheme == "bearer")):
                try:
                    second = endpoint.request("GET", "/v2/", scopes=[], expected=(200, 401), trace_name="ping",
                                              action="log in")
                except AuthenticationError as err:
                    # The token service refused us: nothing more to learn from /v2/.
                    auth_error = str(err)
                else:
                    second.close()
                    status = second.status_code
                    api_version = second.headers.get("Docker-Distribution-API-Version") or api_version
                    rate_limit = parse_rate_limit(second.headers) or rate_limit
                    if status == 401:
                        auth_error = str(endpoint.error(second, action="log in"))
                if auth_error is None and auth.credentials_withheld:
                    # /v2/ may well answer an anonymous token: that is access, not authentication.
                    auth_error = str(CredentialsWithheldError(
                        "the credentials%s were withheld" % (
                            " of user %s" % auth.username if auth.username else ""),
                        realm=auth.withheld_realm, registry=self.registry, action="log in"))
                authenticated = status == 200 and auth_error is None and auth.has_credentials
        else:
            auth.mark_open()
            if challenges:
                auth_info = challenges[0].to_dict()
        info = {
            "api_version": api_version,
            "status": status,
            "auth": auth_info,
            "authenticated": authenticated,
            "rate_limit": rate_limit,
        }
        if auth_error is not None:
            info["auth_error"] = auth_error
        return info


__all__ = ["SystemApi", "parse_rate_limit"]
