"""In-app inbox: notifications shown inside the integrator's product, live push and preferences."""
