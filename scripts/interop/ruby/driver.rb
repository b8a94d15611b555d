
# Appended to portico_sso.rb by scripts/interop.sh: prints one sign-in URL.
# ruby FILE issuely EMAIL [NAME] [ROLE] [PROJECT_ID]   |   ruby FILE invoiced USER_ID
interop_mode, *interop_args = ARGV
interop_args = interop_args.map { |a| a.empty? ? nil : a }
if interop_mode == 'invoiced'
  puts portico_login_url(Integer(interop_args[0]))
else
  email, name, role, project_id = interop_args
  puts portico_sso_url(email: email, name: name, role: role, project_id: project_id)
end
