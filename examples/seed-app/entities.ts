/**
 * TypeORM 0.3 entity schemas for the seed app (FastAPI + SQLAlchemy + alembic game site).
 *
 * They mirror the app's SQLAlchemy models (users, scores, friendships, monthly_scores,
 * game_visits) as alembic creates them on PostgreSQL (fixtures/seed-app/postgres-alembic.sql),
 * and are meant to be used with:
 *
 *   my2pg run --entities examples/seed-app/entities.ts
 *
 * EntitySchema objects instead of decorators: the project is ESM without
 * emitDecoratorMetadata. alembic_version is not an entity (alembic owns it).
 */
import { EntitySchema } from 'typeorm';

export type FriendshipStatus = 'PENDING' | 'ACCEPTED' | 'REJECTED';

export const FRIENDSHIP_STATUSES: FriendshipStatus[] = ['PENDING', 'ACCEPTED', 'REJECTED'];

export interface UserRow {
  id: number;
  email: string;
  password: string;
  nickname: string;
  /** DATE: TypeORM hands it over as 'YYYY-MM-DD'. */
  birthDate: string | null;
  role: string;
  isActive: boolean;
  profileMessage: string | null;
  createdAt: Date;
  updatedAt: Date | null;
}

export interface ScoreRow {
  id: number;
  userId: number;
  score: number;
  gameName: string;
  createdAt: Date;
  updatedAt: Date | null;
  user?: UserRow;
}

export interface FriendshipRow {
  id: number;
  requesterId: number;
  addresseeId: number;
  status: FriendshipStatus;
  createdAt: Date;
  updatedAt: Date | null;
  requester?: UserRow;
  addressee?: UserRow;
}

export interface MonthlyScoreRow {
  id: number;
  userId: number;
  year: number;
  month: number;
  score: number;
  updatedAt: Date;
  user?: UserRow;
}

export interface GameVisitRow {
  id: number;
  /** NULL for guests, and for visits of users that were deleted (ON DELETE SET NULL). */
  userId: number | null;
  ipAddress: string;
  userAgent: string | null;
  isLoggedIn: boolean;
  visitedAt: Date;
  user?: UserRow | null;
}

export const User = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment', primaryKeyConstraintName: 'users_pkey' },
    email: { type: 'varchar', length: 255 },
    password: { type: 'varchar', length: 255 },
    nickname: { type: 'varchar', length: 50 },
    birthDate: { name: 'birth_date', type: 'date', nullable: true },
    role: { type: 'varchar', length: 20, default: 'user' },
    isActive: { name: 'is_active', type: 'boolean', default: true },
    profileMessage: { name: 'profile_message', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamp', default: () => 'now()' },
    updatedAt: { name: 'updated_at', type: 'timestamp', nullable: true },
  },
  indices: [
    { name: 'ix_users_id', columns: ['id'] },
    { name: 'ix_users_email', columns: ['email'], unique: true },
  ],
});

export const Score = new EntitySchema<ScoreRow>({
  name: 'Score',
  tableName: 'scores',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment', primaryKeyConstraintName: 'scores_pkey' },
    userId: { name: 'user_id', type: 'int' },
    score: { type: 'int' },
    gameName: { name: 'game_name', type: 'varchar', length: 50, default: 'tetris' },
    createdAt: { name: 'created_at', type: 'timestamp' },
    updatedAt: { name: 'updated_at', type: 'timestamp', nullable: true },
  },
  relations: {
    user: {
      type: 'many-to-one',
      target: 'User',
      joinColumn: { name: 'user_id', foreignKeyConstraintName: 'scores_user_id_fkey' },
      nullable: false,
      onDelete: 'CASCADE',
    },
  },
  indices: [{ name: 'ix_scores_user_id', columns: ['userId'] }],
});

export const Friendship = new EntitySchema<FriendshipRow>({
  name: 'Friendship',
  tableName: 'friendships',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment', primaryKeyConstraintName: 'friendships_pkey' },
    requesterId: { name: 'requester_id', type: 'int' },
    addresseeId: { name: 'addressee_id', type: 'int' },
    status: {
      type: 'enum',
      enum: FRIENDSHIP_STATUSES,
      enumName: 'friendshipstatus',
      default: 'PENDING',
    },
    createdAt: { name: 'created_at', type: 'timestamp' },
    updatedAt: { name: 'updated_at', type: 'timestamp', nullable: true },
  },
  relations: {
    requester: {
      type: 'many-to-one',
      target: 'User',
      joinColumn: { name: 'requester_id', foreignKeyConstraintName: 'friendships_requester_id_fkey' },
      nullable: false,
      onDelete: 'CASCADE',
    },
    addressee: {
      type: 'many-to-one',
      target: 'User',
      joinColumn: { name: 'addressee_id', foreignKeyConstraintName: 'friendships_addressee_id_fkey' },
      nullable: false,
      onDelete: 'CASCADE',
    },
  },
  uniques: [{ name: 'uq_friendship', columns: ['requesterId', 'addresseeId'] }],
});

export const MonthlyScore = new EntitySchema<MonthlyScoreRow>({
  name: 'MonthlyScore',
  tableName: 'monthly_scores',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment', primaryKeyConstraintName: 'monthly_scores_pkey' },
    userId: { name: 'user_id', type: 'int' },
    year: { type: 'int' },
    month: { type: 'int' },
    score: { type: 'int', default: 0 },
    updatedAt: { name: 'updated_at', type: 'timestamp' },
  },
  relations: {
    user: {
      type: 'many-to-one',
      target: 'User',
      joinColumn: { name: 'user_id', foreignKeyConstraintName: 'monthly_scores_user_id_fkey' },
      nullable: false,
      onDelete: 'CASCADE',
    },
  },
  uniques: [{ name: 'uq_user_year_month', columns: ['userId', 'year', 'month'] }],
});

export const GameVisit = new EntitySchema<GameVisitRow>({
  name: 'GameVisit',
  tableName: 'game_visits',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment', primaryKeyConstraintName: 'game_visits_pkey' },
    userId: { name: 'user_id', type: 'int', nullable: true },
    ipAddress: { name: 'ip_address', type: 'varchar', length: 45 },
    userAgent: { name: 'user_agent', type: 'varchar', length: 512, nullable: true },
    isLoggedIn: { name: 'is_logged_in', type: 'boolean', default: false },
    visitedAt: { name: 'visited_at', type: 'timestamp' },
  },
  relations: {
    user: {
      type: 'many-to-one',
      target: 'User',
      joinColumn: { name: 'user_id', foreignKeyConstraintName: 'game_visits_user_id_fkey' },
      nullable: true,
      onDelete: 'SET NULL',
    },
  },
  indices: [{ name: 'ix_game_visits_visited_at', columns: ['visitedAt'] }],
});

export default [User, Score, Friendship, MonthlyScore, GameVisit];
