import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Problem = components["schemas"]["Problem"];

const api = createClient<paths>({ baseUrl: "https://book.example.com" });

function explain(problem: Problem): string {
  const fields = problem.errors.map((issue) => `${issue.field}: ${issue.rule}`).join("; ");
  return `${problem.status} ${problem.code}: ${problem.detail}${fields ? ` (${fields})` : ""}`;
}

export async function bookAndPay(slug: string, email: string, password: string): Promise<string> {
  const page = await api.GET("/v1/public/businesses/{slug}", { params: { path: { slug } } });
  if (page.error) throw new Error(explain(page.error));
  const business = page.data;

  const services = await api.GET("/v1/public/businesses/{slug}/services", { params: { path: { slug } } });
  if (services.error) throw new Error(explain(services.error));
  const service = services.data.items[0];

  const found = await api.GET("/v1/public/businesses/{slug}/availability", {
    params: { path: { slug }, query: { service_id: service.id, from: "2026-12-07", to: "2026-12-13" } },
  });
  if (found.error) throw new Error(explain(found.error));
  // `mode` is the answer's discriminator: past this line the type is the appointment answer.
  if (found.data.mode !== "appointment") throw new Error("a class business: book a seat in a session");
  const slot = found.data.slots[0];

  const login = await api.POST("/v1/auth/login", { body: { email, password } });
  if (login.error) {
    if (login.error.code === "login_throttled") throw new Error("wait, then try again");
    throw new Error(explain(login.error));
  }
  const headers = { Authorization: `Bearer ${login.data.access_token}` };

  const booked = await api.POST("/v1/businesses/{business_id}/bookings", {
    params: { path: { business_id: business.id }, header: { "idempotency-key": crypto.randomUUID() } },
    body: { service_id: service.id, starts_at: slot.starts_at, payment_method: "card" },
    headers,
  });
  if (booked.error) {
    if (booked.error.code === "slot_unavailable") return "taken: choose another time";
    throw new Error(explain(booked.error));
  }

  const checkout = await api.POST("/v1/businesses/{business_id}/bookings/{booking_id}/payments", {
    params: { path: { business_id: business.id, booking_id: booked.data.id } },
    body: { method: "card", display: "ar" },
    headers,
  });
  if (checkout.error) throw new Error(explain(checkout.error));
  return checkout.data.url;
}

// A new customer: the code is e-mailed; the account exists once it comes back.
export async function askForAccount(email: string): Promise<number> {
  const asked = await api.POST("/v1/auth/register", { body: { email, language: "ar" } });
  if (asked.error) throw new Error(explain(asked.error));
  return asked.data.code_expires_in;
}

export async function proveEmail(email: string, code: string, password: string, name: string): Promise<string> {
  const proven = await api.POST("/v1/auth/register/verify", {
    body: { email, code, password, full_name: name },
  });
  if (proven.error) {
    if (proven.error.code === "invalid_code") throw new Error("that code did not work: ask for a new one");
    throw new Error(explain(proven.error));
  }
  return proven.data.access_token;
}
