"""`python -m pulumi_hf_endpoints.native`: the plugin `pulumi-resource-hf-endpoints` runs."""

from . import main

if __name__ == "__main__":
    main()
