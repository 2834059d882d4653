import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import { Cursor, Id, Limit, PageMeta, Text, UtcTimestamp } from "../../lib/schemas";

export const exampleMemberId = "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

const roles = ["owner", "admin", "member"] as const;
export type Role = (typeof roles)[number];

const roleDescription =
  "`owner` and `admin` see and change everything in the organization, `member` only their own time entries. Only an owner grants or takes away `owner`; an admin never changes an owner.";

export const MemberRole = z.enum(roles, { message: "Must be owner, admin or member" }).openapi({
  description: roleDescription,
  example: "member",
});

export const Member = z
  .object({
    id: Id.openapi({ description: "The member's user id (the `sub` of their tokens).", example: exampleMemberId }),
    role: MemberRole,
    status: z.enum(["active", "removed"]).openapi({
      description:
        "`removed`: offboarded. The membership, the user and every hour they logged stay; their tokens are refused (403) and no new entries can be recorded for them.",
      example: "active",
    }),
    joined_at: UtcTimestamp.openapi({
      description: "When the membership last became active: when the person was added, or reinstated.",
    }),
    removed_at: UtcTimestamp.nullable().openapi({
      description: "When the member was removed; null while active.",
      example: null,
    }),
    version: Version,
    user: z.object({
      id: Id.openapi({ example: exampleMemberId }),
      email: z.string().openapi({ example: "grace@example.com" }),
      full_name: z.string().nullable().openapi({ example: "Grace Hopper" }),
      avatar_url: z.string().nullable().openapi({ example: null }),
    }),
  })
  .openapi("Member");

export type Member = z.infer<typeof Member>;

export const MemberEnvelope = z.object({ data: Member }).openapi("MemberResponse");
export const MemberPage = z.object({ data: z.array(Member), meta: PageMeta }).openapi("MemberList");

export const ListMembersQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    role: MemberRole.optional().openapi({ description: "Only members with this role.", example: "admin" }),
    status: z
      .enum(["active", "removed", "all"], { message: "Must be active, removed or all" })
      .default("active")
      .openapi({ description: "`active` (the default), `removed` (offboarded) or `all`.", example: "all" }),
    q: Text(200).optional().openapi({
      description: "Case-insensitive substring of the name or e-mail address; `%` and `_` match themselves.",
      example: "grace",
    }),
  })
  .strict();

export type ListMembersQuery = z.infer<typeof ListMembersQuery>;

export const UserIdParams = z.object({
  userId: Id.openapi({
    param: { name: "userId", in: "path" },
    description: "The member's user id (UUID).",
    example: exampleMemberId,
  }),
});

export const AddMemberBody = z
  .object({
    email: z
      .email({ message: "Must be an e-mail address" })
      .max(320)
      .openapi({ description: "Compared case-insensitively with existing users.", example: "grace@example.com" }),
    full_name: Text(200).regex(/\S/, { message: "Must not be blank" }).optional().openapi({
      description: "The name of a person new to the API; ignored for an existing user, whose profile belongs to them.",
      example: "Grace Hopper",
    }),
    role: MemberRole,
  })
  .strict()
  .openapi("AddMember", { example: { email: "grace@example.com", full_name: "Grace Hopper", role: "member" } });

export type AddMemberBody = z.infer<typeof AddMemberBody>;

export const UpdateMemberBody = z
  .object({ role: MemberRole })
  .strict()
  .openapi("UpdateMember", { example: { role: "admin" } });

export type UpdateMemberBody = z.infer<typeof UpdateMemberBody>;
