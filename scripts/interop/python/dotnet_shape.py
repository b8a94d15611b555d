# THE .NET SHAPE -- not .NET itself: no .NET SDK can be installed here, so PyJWT writes
# the token that the C# snippet of docs/INTEGRATION.md writes with
# System.IdentityModel.Tokens.Jwt (new JwtSecurityToken(claims:, notBefore:, expires:,
# signingCredentials:) + JwtSecurityTokenHandler.WriteToken):
#   header  {"alg":"HS256","typ":"JWT"}
#   payload the claims, every value a string (a Claim's value is a string, so `sub` is
#           "42", not 42), and nbf and exp as integer seconds (where they sit among the
#           claims depends on the library's version); no iat: that constructor writes
#           iat only when it is given issuedAt.
import os
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import jwt

PORTICO_BASE_URL = "{{BASE_URL}}"
PORTICO_COMPANY_ID = "{{COMPANY_ID}}"


def _sign(claims):
    now = int(datetime.now(tz=timezone.utc).timestamp())
    payload = dict(claims, nbf=now, exp=now + 300)
    return jwt.encode(
        payload,
        os.environ["PORTICO_SSO_SECRET"],
        algorithm="HS256",
        headers={"alg": "HS256", "typ": "JWT"},
    )


def portico_sso_url(email, name=None, role=None, project_id=None):
    claims = {"email": email, "companyId": PORTICO_COMPANY_ID}
    if name is not None:
        claims["name"] = name
    if role is not None:
        claims["role"] = role
    if project_id is not None:
        claims["projectId"] = project_id
    return f"{PORTICO_BASE_URL}/api/auth/sso?token={quote(_sign(claims))}"


def portico_login_url(portico_user_id):
    return f"{PORTICO_BASE_URL}/login/{_sign({'sub': str(portico_user_id)})}"
