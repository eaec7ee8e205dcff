"""A business's catalog: services, staff members, resources and their schedules."""
