#!/bin/sh
# Portico SSO from a shell, with openssl and jq: prints a sign-in URL to open (or to `curl -si`).
#   PORTICO_SSO_SECRET=… sh portico-sso.sh jane@example.com  -> Issuely form, /api/auth/sso?token=…
#   PORTICO_SSO_SECRET=… sh portico-sso.sh 42                -> Invoiced form, /login/…  (42: a Portico user id)
# jq builds the JSON, so no email can add claims of its own; the jti makes the link single-use.
set -eu
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
jti=$(openssl rand -hex 16)
header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
case "$1" in
  *[!0-9]*) claims=$(jq -cn --arg companyId '{{COMPANY_ID}}' --arg email "$1" --arg jti "$jti" \
              --argjson now "$now" '{companyId: $companyId, email: $email, jti: $jti, iat: $now, exp: ($now + 300)}')
            path='/api/auth/sso?token=' ;;
  *)        claims=$(jq -cn --argjson sub "$1" --arg jti "$jti" \
              --argjson now "$now" '{sub: $sub, jti: $jti, iat: $now, exp: ($now + 300)}')
            path='/login/' ;;
esac
payload=$(printf '%s' "$claims" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" |
  openssl dgst -sha256 -hmac "$PORTICO_SSO_SECRET" -binary | b64url)
echo "{{BASE_URL}}$path$header.$payload.$signature"
