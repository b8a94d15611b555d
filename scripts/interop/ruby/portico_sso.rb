# Portico SSO with the jwt gem (gem install jwt; Debian: ruby-jwt): mint a sign-in token, build the redirect URL.
require 'jwt'
require 'erb'
require 'securerandom'

PORTICO_BASE_URL = '{{BASE_URL}}'
PORTICO_COMPANY_ID = '{{COMPANY_ID}}'

# Issuely form: the person is named by email; Portico creates the account on the first visit.
def portico_sso_url(email:, name: nil, role: nil, project_id: nil)
  now = Time.now.to_i
  # A jti makes the link single-use: a URL sits in the browser's history.
  payload = { companyId: PORTICO_COMPANY_ID, email: email, name: name, iat: now, exp: now + 300,
              jti: SecureRandom.uuid }
  payload[:role] = role if role             # 'CUSTOMER' (the default) or 'AGENT'
  payload[:projectId] = project_id if project_id # one of your company's project IDs (proj_…)
  # The secret's exact text: its UTF-8 bytes are the HMAC key.
  token = JWT.encode(payload, ENV.fetch('PORTICO_SSO_SECRET'), 'HS256')
  "#{PORTICO_BASE_URL}/api/auth/sso?token=#{ERB::Util.url_encode(token)}"
end

# Invoiced form: an existing Portico user, named by their numeric user id.
def portico_login_url(portico_user_id)
  now = Time.now.to_i
  token = JWT.encode({ sub: portico_user_id, iat: now, exp: now + 300, jti: SecureRandom.uuid },
                     ENV.fetch('PORTICO_SSO_SECRET'), 'HS256')
  "#{PORTICO_BASE_URL}/login/#{token}"
end

# Rails: redirect_to portico_sso_url(email: current_user.email, name: current_user.name),
#                    allow_other_host: true, status: :see_other
