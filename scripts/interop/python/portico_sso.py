# Portico SSO with PyJWT (pip install PyJWT): mint a sign-in token, build the redirect URL.
import os
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import jwt

PORTICO_BASE_URL = "{{BASE_URL}}"
PORTICO_COMPANY_ID = "{{COMPANY_ID}}"


def portico_sso_url(email, name=None, role=None, project_id=None):
    """Issuely form: the person is named by email; Portico creates the account on the first visit."""
    now = datetime.now(tz=timezone.utc)
    claims = {
        "companyId": PORTICO_COMPANY_ID,
        "email": email,
        "name": name,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": secrets.token_hex(16),  # single-use: a URL sits in the browser's history
    }
    if role:
        claims["role"] = role  # "CUSTOMER" (the default) or "AGENT"
    if project_id:
        claims["projectId"] = project_id  # one of your company's project IDs (proj_…)
    # The secret's exact text: its UTF-8 bytes are the HMAC key.
    token = jwt.encode(claims, os.environ["PORTICO_SSO_SECRET"], algorithm="HS256")
    return f"{PORTICO_BASE_URL}/api/auth/sso?token={quote(token)}"


def portico_login_url(portico_user_id):
    """Invoiced form: an existing Portico user, named by their numeric user id."""
    now = datetime.now(tz=timezone.utc)
    token = jwt.encode(
        {"sub": portico_user_id, "iat": now, "exp": now + timedelta(minutes=5), "jti": secrets.token_hex(16)},
        os.environ["PORTICO_SSO_SECRET"],
        algorithm="HS256",
    )
    return f"{PORTICO_BASE_URL}/login/{token}"


# Django: return redirect(portico_sso_url(request.user.email, request.user.get_full_name()))
# Flask:  return redirect(portico_sso_url(current_user.email, current_user.name), code=303)
