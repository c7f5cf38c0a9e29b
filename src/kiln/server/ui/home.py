"""Pages: the home page (experiments and models at a glance) and the login form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kiln.server.security import COOKIE, Principal, hash_token
from kiln.server.ui._common import render, store, user

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Annotated[Principal, Depends(user)]) -> HTMLResponse:
    s = store(request)
    return render(request, "home.html", who=who, experiments=s.list_experiments(),
                  models=s.list_registered_models())


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", error="")


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()]) -> Response:
    if store(request).find_token(hash_token(token.strip())) is None:
        response = render(request, "login.html", error="That token is not valid.")
        response.status_code = 401
        return response
    redirect = RedirectResponse("/", status_code=303)
    redirect.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return redirect
