"""A minimal registry writer over plain HTTP calls, independent of the collection's client.

Used where skopeo is too slow (hundreds of tags) or cannot express what a test needs (pushing a
manifest under many tags, repositories seeded by cross-repository mount). It speaks only what the
distribution spec requires: Basic or Bearer (GET token flow) auth, monolithic blob upload, mount,
manifest PUT.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.parse

import requests

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RawPushError(RuntimeError):
    pass


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RawRegistry:
    def __init__(self, env, variant, user=None, timeout=60):
        info = env["registries"][variant]
        self.url = info["url"]
        self.credentials = (user, info["users"][user]) if user else None
        self.session = requests.Session()
        self.session.verify = env["ca_path"] if self.url.startswith("https") else True
        # Never pick up ~/.netrc or proxies of the developer's machine for 127.0.0.1.
        self.session.trust_env = False
        self.timeout = timeout
        self._tokens = {}

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _authorization(self, challenge, scopes):
        scheme, _sep, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not self.credentials:
                raise RawPushError("registry %s wants Basic credentials" % self.url)
            return requests.auth._basic_auth_str(*self.credentials)  # pylint: disable=protected-access
        params = dict(CHALLENGE_PARAM.findall(params))
        key = tuple(sorted(scopes))
        if key not in self._tokens:
            response = self.session.get(params["realm"], params={"service": params.get("service", ""), "scope": list(scopes)},
                                        auth=self.credentials, timeout=self.timeout)
            if response.status_code != 200:
                raise RawPushError("token request failed: HTTP %d %s" % (response.status_code, response.text[:200]))
            body = response.json()
            self._tokens[key] = body.get("token") or body["access_token"]
        return "Bearer " + self._tokens[key]

    def request(self, method, path, scopes, **kwargs):
        url = path if path.startswith("http") else self.url + path
        headers = kwargs.pop("headers", {})
        data = kwargs.get("data")
        response = self.session.request(method, url, headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs)
        if response.status_code == 401 and "WWW-Authenticate" in response.headers:
            if hasattr(data, "seek"):
                data.seek(0)
            headers["Authorization"] = self._authorization(response.headers["WWW-Authenticate"], scopes)
            response = self.session.request(method, url, headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs)
        return response

    @staticmethod
    def _check(response, expected, what):
        if response.status_code not in expected:
            raise RawPushError("%s: HTTP %d %s" % (what, response.status_code, response.text[:300]))
        return response

    def blob_exists(self, repository, digest):
        scopes = ["repository:%s:pull,push" % repository]
        return self.request("HEAD", "/v2/%s/blobs/%s" % (repository, digest), scopes).status_code == 200

    def push_blob(self, repository, data=None, path=None, digest=None, size=None):
        """Upload bytes or a file (streamed) unless the registry has it; return the digest."""
        if digest is None:
            if path is not None:
                raise RawPushError("push_blob(path=...) needs the digest")
            digest = sha256_digest(data)
        if self.blob_exists(repository, digest):
            return digest
        scopes = ["repository:%s:pull,push" % repository]
        started = self._check(self.request("POST", "/v2/%s/blobs/uploads/" % repository, scopes), (202,), "start upload")
        location = urllib.parse.urljoin(self.url + "/", started.headers["Location"])
        separator = "&" if "?" in location else "?"
        headers = {"Content-Type": "application/octet-stream"}
        if path is not None:
            headers["Content-Length"] = str(size if size is not None else os.path.getsize(path))
            with open(path, "rb") as handle:
                response = self.request("PUT", location + separator + "digest=" + digest, scopes, data=handle, headers=headers)
        else:
            response = self.request("PUT", location + separator + "digest=" + digest, scopes, data=data, headers=headers)
        self._check(response, (201,), "upload %s" % digest)
        return digest

    def mount_blob(self, repository, digest, source_repository):
        scopes = ["repository:%s:pull,push" % repository, "repository:%s:pull" % source_repository]
        response = self.request("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (repository, digest, source_repository), scopes)
        if response.status_code == 202:
            # The registry did not mount (e.g. no access to the source) and opened an upload instead.
            self.request("DELETE", urllib.parse.urljoin(self.url + "/", response.headers["Location"]), scopes)
            raise RawPushError("mount of %s from %s refused" % (digest, source_repository))
        self._check(response, (201,), "mount %s" % digest)
        return digest

    def put_manifest(self, repository, reference, raw: bytes, media_type):
        """PUT the manifest bytes unchanged; return the digest, checked against the registry's answer."""
        scopes = ["repository:%s:pull,push" % repository]
        response = self.request("PUT", "/v2/%s/manifests/%s" % (repository, reference), scopes, data=raw, headers={"Content-Type": media_type})
        self._check(response, (201,), "put manifest %s:%s" % (repository, reference))
        digest = sha256_digest(raw)
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise RawPushError("registry stored %s as %s, expected %s" % (reference, answered, digest))
        return digest
