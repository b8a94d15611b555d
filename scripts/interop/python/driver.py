

# Appended to portico_sso.py (or dotnet_shape.py) by scripts/interop.sh: prints one sign-in URL.
# python FILE issuely EMAIL [NAME] [ROLE] [PROJECT_ID]   |   python FILE invoiced USER_ID
if __name__ == "__main__":
    import sys

    _mode, *_args = sys.argv[1:]
    if _mode == "invoiced":
        print(portico_login_url(int(_args[0])))
    else:
        print(portico_sso_url(*[a or None for a in _args]))
