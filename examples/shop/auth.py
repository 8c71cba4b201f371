"""``/auth``: the OAuth2 password flow, and who the token's bearer is."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from .dependencies import StoreDep, UserDep
from .models import Token, UserOut
from .store import hash_password
from .tokens import issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


# A plain ``def``: FastAPI runs it in a worker thread, as password hashing should be.
@router.post("/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], store: StoreDep) -> Token:
    user = store.users.get(form.username)
    password_hash = hash_password(form.username, form.password)
    if user is None or not hmac.compare_digest(password_hash, user.password_hash):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if user.disabled:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "account disabled")
    return Token(access_token=issue_token(user.username))


@router.get("/me")
async def me(user: UserDep) -> UserOut:
    return UserOut(username=user.username, full_name=user.full_name, role=user.role)
