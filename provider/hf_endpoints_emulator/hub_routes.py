"""The Hub routes huggingface_hub calls besides `/v2`: whoami and the Inference Catalog.

whoami lets namespace-less calls resolve the default namespace (`HfApi(endpoint=<emulator>)`);
the catalog is served at its 2.x paths (`/api/v1/catalog/...`) and its 1.x paths
(`/api/catalog/...`), both relative to the emulator's base URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from . import catalog
from .auth import bearer_token, check_namespace, user_id
from .config import User
from .context import Emulator
from .control_plane import Caller, EmulatorDep
from .errors import ApiError
from .schemas import (
    CatalogEndpointDoc,
    CatalogModelDeployBody,
    EndpointBody,
    ErrorDoc,
    LegacyCatalogDeployBody,
)

router = APIRouter(tags=["hub"])

_DEPLOY_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"model": CatalogEndpointDoc, "description": "The new endpoint"},
    **{code: {"model": ErrorDoc, "description": "Error"} for code in (400, 401, 403, 404, 409)},
}


@router.get(
    "/api/whoami-v2",
    summary="The token's user and organisations",
    response_model=None,
    responses={401: {"model": ErrorDoc, "description": "Invalid token"}},
)
async def whoami(request: Request, emu: EmulatorDep) -> JSONResponse:
    user = emu.accounts.find(bearer_token(request.headers))
    if user is None:
        raise ApiError(401, "Invalid credentials in Authorization header")
    return JSONResponse(
        {
            "type": "user",
            "id": user_id(user.name),
            "name": user.name,
            "fullname": user.name,
            "email": f"{user.name}@emulator.invalid",
            "emailVerified": True,
            "canPay": True,
            "isPro": False,
            "orgs": [
                {
                    "type": "org",
                    "id": user_id(org),
                    "name": org,
                    "fullname": org,
                    "roleInOrg": "admin",
                }
                for org in user.orgs
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": "emulator", "role": "write"},
            },
        }
    )


@router.get(
    "/api/v1/catalog/list",
    summary="Catalog models and their recipes",
    response_model=None,
    responses={400: {"model": ErrorDoc, "description": "Invalid parameter"}},
)
async def list_catalog(
    accelerator: Annotated[str | None, Query()] = None,
    engine: Annotated[str | None, Query()] = None,
    license: Annotated[str | None, Query()] = None,
    task: Annotated[str | None, Query()] = None,
    search: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=0)] = None,
) -> JSONResponse:
    items = catalog.list_models(accelerator, engine, license, task, search, limit)
    return JSONResponse({"items": items})


def _deploy(
    emu: Emulator,
    user: User,
    namespace: str,
    model: catalog.CatalogModel,
    recipe: catalog.Recipe,
    name: str | None,
) -> JSONResponse:
    check_namespace(user, namespace)
    request = catalog.endpoint_request(model, recipe, name or catalog.generated_name(model))
    record = emu.service.create(user, namespace, EndpointBody.model_validate(request))
    return JSONResponse({"endpoint": emu.service.render(record)})


@router.post(
    "/api/v1/catalog/model/{repo_id:path}/deploy",
    summary="Deploy a catalog model's default (or matching) recipe",
    response_model=None,
    responses=_DEPLOY_ERRORS,
)
async def deploy_catalog_model(
    repo_id: str, body: CatalogModelDeployBody, user: Caller, emu: EmulatorDep
) -> JSONResponse:
    model = catalog.find_model(repo_id)
    recipe = catalog.pick_recipe(model, body.accelerator, body.ggufFile)
    name = body.config.name if body.config else None
    return _deploy(emu, user, body.namespace, model, recipe, name)


@router.post(
    "/api/v1/catalog/recipe/{recipe_id}/deploy",
    summary="Deploy one catalog recipe",
    response_model=None,
    responses=_DEPLOY_ERRORS,
)
async def deploy_catalog_recipe(
    recipe_id: str, body: CatalogModelDeployBody, user: Caller, emu: EmulatorDep
) -> JSONResponse:
    model, recipe = catalog.find_recipe(recipe_id)
    name = body.config.name if body.config else None
    return _deploy(emu, user, body.namespace, model, recipe, name)


@router.get(
    "/api/catalog/repo-list",
    summary="Catalog repositories (huggingface_hub 1.x)",
    response_model=None,
)
async def legacy_list_catalog() -> JSONResponse:
    return JSONResponse({"models": [model.repo_id for model in catalog.CATALOG]})


@router.post(
    "/api/catalog/deploy",
    summary="Deploy a catalog model (huggingface_hub 1.x)",
    response_model=None,
    responses=_DEPLOY_ERRORS,
)
async def legacy_deploy_catalog(
    body: LegacyCatalogDeployBody, user: Caller, emu: EmulatorDep
) -> JSONResponse:
    model = catalog.find_model(body.repoId)
    recipe = catalog.pick_recipe(model, body.accelerator, None)
    return _deploy(emu, user, body.namespace, model, recipe, body.endpointName)
