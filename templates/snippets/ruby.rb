# gem install jwt
require 'jwt'
require 'erb'

# Call for the signed-in user, then: redirect_to portal_url(current_user)
# Optional claims: role ('CUSTOMER' or 'AGENT'), projectId ('proj_…'), jti.
def portal_url(user)
  now = Time.now.to_i
  payload = {
    companyId: '{{COMPANY_ID}}',
    email: user.email,
    name: user.name,
    iat: now,
    exp: now + 300
  }
  token = JWT.encode(payload, ENV.fetch('PORTICO_SSO_SECRET'), 'HS256')
  "{{BASE_URL}}/api/auth/sso?token=#{ERB::Util.url_encode(token)}"
end
