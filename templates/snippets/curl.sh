# Mint a token with openssl and follow it (the secret's text is the HMAC key).
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"companyId":"{{COMPANY_ID}}","email":"jane@example.com","name":"Jane Doe","iat":%d,"exp":%d}' "$now" "$((now + 300))" | b64url)
sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$PORTICO_SSO_SECRET" -binary | b64url)
curl -i "{{BASE_URL}}/api/auth/sso?token=$header.$payload.$sig"
