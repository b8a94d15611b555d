# pip install pyjwt
import os
import urllib.parse
from datetime import datetime, timedelta, timezone

import jwt


# Call for the signed-in user, then redirect to the URL.
# Optional claims: role ("CUSTOMER" or "AGENT"), projectId ("proj_…"), jti.
def portal_url(user):
    now = datetime.now(tz=timezone.utc)
    token = jwt.encode(
        {
            "companyId": "{{COMPANY_ID}}",
            "email": user["email"],
            "name": user["name"],
            "iat": now,
            "exp": now + timedelta(minutes=5),
        },
        os.environ["PORTICO_SSO_SECRET"],
        algorithm="HS256",
    )
    return "{{BASE_URL}}/api/auth/sso?token=" + urllib.parse.quote(token)
