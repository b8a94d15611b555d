#!/bin/sh
# Portico SSO from a shell, with openssl: prints a sign-in URL to open (or to `curl -si`).
#   PORTICO_SSO_SECRET=… sh portico-sso.sh jane@example.com  -> Issuely form, /api/auth/sso?token=…
#   PORTICO_SSO_SECRET=… sh portico-sso.sh 42                -> Invoiced form, /login/…  (42: a Portico user id)
set -eu
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
case "$1" in
  *[!0-9]*) payload=$(printf '{"companyId":"%s","email":"%s","iat":%d,"exp":%d}' \
              '{{COMPANY_ID}}' "$1" "$now" $((now + 300)) | b64url)
            path='/api/auth/sso?token=' ;;
  *)        payload=$(printf '{"sub":%d,"iat":%d,"exp":%d}' "$1" "$now" $((now + 300)) | b64url)
            path='/login/' ;;
esac
signature=$(printf '%s.%s' "$header" "$payload" |
  openssl dgst -sha256 -hmac "$PORTICO_SSO_SECRET" -binary | b64url)
echo "{{BASE_URL}}$path$header.$payload.$signature"
