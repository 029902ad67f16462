# Type information for the parts of django-mptt this project uses; the package ships
# none. Without it, OrganizationalUnit derives from Any and mypy's Django plugin cannot
# see it as a model (its fields, managers and querysets all become untyped).
