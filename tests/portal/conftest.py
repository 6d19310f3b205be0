"""The portal tests' fixtures: a competition in review whose applications went through the real
intake (``tests.portal.review_world``), the portal on it, and a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.app import create_app
from tests.portal.review_world import ReviewWorld, build_world
from tests.support.browser import browser  # noqa: F401  (the shared Chromium fixture)

__all__ = ["ReviewWorld", "build_world"]


@pytest.fixture
def world(settings_env: Path) -> ReviewWorld:
    return build_world()


@pytest.fixture
def blind_world(settings_env: Path) -> ReviewWorld:
    return build_world(blind=True)


@pytest.fixture
def portal(world: ReviewWorld) -> FastAPI:
    return create_app(world.settings)


@pytest.fixture
def client(portal: FastAPI) -> Iterator[TestClient]:
    with TestClient(portal, follow_redirects=False) as client:
        yield client
