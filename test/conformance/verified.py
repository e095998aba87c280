"""Runs DMTF's Redfish Service Validator or Interop Validator with TLS verified against a CA bundle.

Both validators (service 3.1.8, interop 3.0.4) build their client with python-redfish-library's
redfish_client and pass it no CA, so every request goes out with verify=False, whatever
REQUESTS_CA_BUNDLE says. This launcher hands the client the bundle (the library's own `cafile`
parameter) and turns urllib3's InsecureRequestWarning into an error, so a request that skips
verification fails the run instead of passing quietly.

usage: verified.py CA_BUNDLE service|interop [validator arguments...]
"""
import functools
import sys
import warnings

import redfish
import urllib3


def main() -> int:
    if len(sys.argv) < 3 or sys.argv[2] not in ("service", "interop"):
        print(__doc__, file=sys.stderr)
        return 2
    ca_bundle = sys.argv.pop(1)
    validator = sys.argv.pop(1)
    warnings.simplefilter("error", urllib3.exceptions.InsecureRequestWarning)
    client = redfish.redfish_client

    @functools.wraps(client)
    def verifying_client(*args, **kwargs):
        kwargs["cafile"] = ca_bundle
        return client(*args, **kwargs)

    redfish.redfish_client = verifying_client
    if validator == "service":
        from redfish_service_validator.console_scripts import main as validator_main
    else:
        from redfish_interop_validator.console_scripts import main as validator_main
    return validator_main()


if __name__ == "__main__":
    sys.exit(main())
