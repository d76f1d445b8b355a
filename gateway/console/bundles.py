"""The policy bundles the console shows: the live one and any stored version.

The console explains what the engine decides with, so it reads the bundle the running
engine holds when it can (the embedded engine), else the active version recorded in the
database, else the configured policy directory. Parsed versions are cached by digest: a
digest names immutable content, so a cached bundle can never go stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.orm import Session

from gateway.errors import NotFoundError
from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.governance import active_version, stored_bundle
from gateway.policy.models import PolicyVersion
from gateway.services import Services

_CACHE_SIZE = 8
_cache: OrderedDict[str, PolicyBundle] = OrderedDict()
_lock = threading.Lock()


def _remember(bundle: PolicyBundle) -> PolicyBundle:
    with _lock:
        _cache[bundle.digest] = bundle
        _cache.move_to_end(bundle.digest)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return bundle


def _cached(digest: str) -> PolicyBundle | None:
    with _lock:
        return _cache.get(digest)


def live_bundle(services: Services, session: Session) -> PolicyBundle:
    """The bundle behind the engine's current digest."""
    engine = getattr(services.policy, "current", services.policy)
    held = getattr(engine, "bundle", None)
    if isinstance(held, PolicyBundle):
        return held
    digest = services.policy.digest
    cached = _cached(digest)
    if cached is not None:
        return cached
    version = session.get(PolicyVersion, digest) or active_version(session)
    if version is not None:
        return _remember(stored_bundle(version))
    return _remember(load_bundle(services.settings.policy_dir))


def version_bundle(session: Session, digest: str) -> PolicyBundle:
    """A stored policy version by its full digest."""
    cached = _cached(digest)
    if cached is not None:
        return cached
    version = session.get(PolicyVersion, digest)
    if version is None:
        raise NotFoundError("no policy version with this digest", field="digest")
    return _remember(stored_bundle(version))


def bundle_for_entry(services: Services, session: Session, digest: str | None) -> PolicyBundle:
    """The bundle an audit entry was decided with, or the live one when it is not stored."""
    if digest:
        try:
            return version_bundle(session, digest)
        except NotFoundError:
            pass
    return live_bundle(services, session)
