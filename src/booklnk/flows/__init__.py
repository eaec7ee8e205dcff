"""Application services: the use cases that span domains (a cancellation and its refund,
a class called off and its seats refunded, a booking shown with its money, availability
answered by slots or by class sessions). The API, the jobs and the CLI call these, so no
caller can cancel without the refund the policy owes; the domains never import them."""
